// EventLoop: a single-threaded epoll reactor with timers and deferred tasks.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace fa {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;
using TimePoint = Clock::time_point;

// Receives readiness for one fd. The loop stores a raw pointer: the owner must call
// EventLoop::remove() before destroying the handler.
class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // `events` is an EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP/EPOLLRDHUP mask.
  virtual void on_io(uint32_t events) = 0;
};

// Identifies a scheduled timer; 0 is never a valid id.
using TimerId = uint64_t;

class EventLoop {
 public:
  EventLoop();  // throws std::system_error if epoll_create1 fails
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The epoll fd: readable when run_once(0) has work. Lets another loop (asyncio) embed this one.
  int fd() const { return epfd_; }

  // Registers/updates/unregisters fd. Returns false (errno set) on failure.
  bool add(int fd, uint32_t events, IoHandler* handler);
  bool modify(int fd, uint32_t events, IoHandler* handler);
  void remove(int fd);

  // Runs `fn` once after `delay` on this loop. Returns an id for cancel().
  TimerId call_later(Duration delay, std::function<void()> fn);
  TimerId call_at(TimePoint when, std::function<void()> fn);
  // Cancels a pending timer; a no-op for a fired or unknown id. Returns true if it was pending.
  bool cancel(TimerId id);

  // Runs `fn` on the next iteration (after the current event batch); safe to call from callbacks.
  void defer(std::function<void()> fn);

  // One iteration: waits up to timeout_ms for I/O (-1 = until the next timer or forever; 0 = poll),
  // dispatches ready handlers, fires due timers, runs deferred tasks. Returns events dispatched.
  int run_once(int timeout_ms);
  // Runs until stop() is called.
  void run();
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

  // Monotonic time cached at the start of each iteration (cheap to read in handlers).
  TimePoint now() const { return now_; }
  TimePoint update_now() { return now_ = Clock::now(); }

  // Milliseconds until the next timer is due (or -1 if none); used by embedders to size waits.
  int next_timer_ms() const;
  bool has_pending_work() const;

 private:
  struct Timer {
    TimePoint when;
    TimerId id;
    std::function<void()> fn;
  };
  struct TimerLater {
    bool operator()(const Timer& a, const Timer& b) const { return a.when > b.when; }
  };

  void fire_timers();
  void run_deferred();

  int epfd_ = -1;
  bool stopped_ = false;
  TimePoint now_;
  TimerId next_timer_id_ = 1;
  std::vector<Timer> timers_;           // min-heap on `when`
  std::vector<TimerId> cancelled_;      // sorted lazily; checked when a timer reaches the top
  size_t live_timers_ = 0;
  std::vector<std::function<void()>> deferred_, deferred_running_;
  std::vector<epoll_event> events_;
};

}  // namespace fa
