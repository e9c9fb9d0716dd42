// EventLoop: a single-threaded reactor with timers and deferred tasks, on epoll or on io_uring
// (src/core/uring_ring.h), chosen when it is constructed.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fa {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;
using TimePoint = Clock::time_point;

// Receives readiness for one fd. The loop stores a raw pointer: the owner must call
// EventLoop::remove() first and must not destroy the handler while events are being dispatched
// (free it through EventLoop::defer), because a later event of the same batch may still name it.
class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // `events` is an EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP/EPOLLRDHUP mask.
  virtual void on_io(uint32_t events) = 0;
};

// Identifies a scheduled timer; 0 is never a valid id.
using TimerId = uint64_t;

class UringRing;

// The loop's I/O backend. kAuto: io_uring when the kernel allows it, else epoll.
enum class LoopBackend { kEpoll, kUring, kAuto };
// "epoll", "uring" (or "io_uring"), "auto"; false for anything else.
bool parse_loop_backend(std::string_view name, LoopBackend* out);
const char* loop_backend_name(LoopBackend b);
// The process default: FASTERAPI_LOOP when set to a valid name, else epoll.
LoopBackend default_loop_backend();

class EventLoop {
 public:
  EventLoop();  // default_loop_backend(); throws std::system_error if epoll_create1 fails
  // kUring/kAuto fall back to epoll, with a logged line, when io_uring cannot be set up.
  explicit EventLoop(LoopBackend backend);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The epoll fd (or the ring's fd): readable when run_once(0) has work. Lets another loop
  // (asyncio) embed this one.
  int fd() const { return epfd_; }

  // The backend in use (kEpoll or kUring, never kAuto).
  LoopBackend backend() const { return uring_ ? LoopBackend::kUring : LoopBackend::kEpoll; }
  // The ring when the backend is io_uring: connections use its completion ops directly.
  UringRing* uring() const { return uring_.get(); }

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
  // Called from outside run_once (an embedder's callback, e.g. a Python Task finishing a
  // response), it also makes fd() readable, so an embedding loop runs the next iteration soon.
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
  // Entries in the timer heap, cancelled ones included (bounded: see cancel()); for tests.
  size_t timer_heap_size() const { return timer_heap_.size(); }

 private:
  struct TimerEntry {
    TimePoint when;
    TimerId id;
  };
  struct TimerLater {
    bool operator()(const TimerEntry& a, const TimerEntry& b) const {
      return a.when > b.when || (a.when == b.when && a.id > b.id);
    }
  };

  void fire_timers();
  void run_deferred();
  void wake();  // makes fd() readable until the next run_once

  // An eventfd in the epoll set: written by wake(), read back by run_once.
  class Waker;
  std::unique_ptr<Waker> waker_;
  bool in_run_ = false;

  int run_uring(int timeout_ms, bool submit_at_end);

  std::unique_ptr<UringRing> uring_;  // null: epoll
  int epfd_ = -1;
  bool stopped_ = false;
  TimePoint now_;
  TimerId next_timer_id_ = 1;
  // Cancelled entries beyond twice the live timers (plus this) make cancel() compact the heap.
  static constexpr size_t kTimerHeapSlack = 64;
  std::vector<TimerEntry> timer_heap_;  // min-heap on (when, id); cancelled ids stay until popped
                                        // or compacted
  std::unordered_map<TimerId, std::function<void()>> timer_fns_;  // pending timers only
  std::vector<std::function<void()>> deferred_, deferred_running_;
  std::vector<epoll_event> events_;
};

}  // namespace fa
