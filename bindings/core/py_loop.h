// fasterapi._native.Loop: one fa::EventLoop (src/core/event_loop.h) embedded in an asyncio loop,
// shared by what runs there: the HTTP Server (server_module.cpp) and PostgreSQL channels
// (pg_channel.cpp). Its fd is registered with asyncio once (add_reader(fd, poll), by
// fasterapi/_loops.py), so one wake-up serves HTTP and PostgreSQL sockets alike.
#pragma once

#include <nanobind/nanobind.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"

namespace fa::py {

class PyLoop {
 public:
  // kUring/kAuto fall back to epoll (with a logged line) when io_uring cannot be set up.
  explicit PyLoop(LoopBackend backend);
  ~PyLoop();
  PyLoop(const PyLoop&) = delete;
  PyLoop& operator=(const PyLoop&) = delete;

  EventLoop& loop() { return loop_; }
  int fileno() const { return loop_.fd(); }
  // One non-blocking iteration: ready I/O, due timers, deferred tasks.
  void poll();
  int next_timer_ms() const { return loop_.next_timer_ms(); }
  // The backend asked for, resolved ("epoll", "uring" or "auto"), and the one in use.
  const std::string& requested() const { return requested_; }
  const char* backend() const { return loop_backend_name(loop_.backend()); }

  // Runs fn at the end of this asyncio loop turn: the first call of a turn schedules one
  // callback with call_soon (the asyncio loop's), which runs every fn queued until then. Writes
  // queued by the callers of one turn thus go out together (auto-pipelining), without an eventfd
  // wake-up or an extra poll() per batch. Falls back to the EventLoop's deferred tasks when
  // asyncio refuses (its loop is closed).
  void at_turn_end(std::function<void()> fn, const nanobind::object& call_soon);

 private:
  void run_pending();

  EventLoop loop_;
  std::string requested_;
  std::shared_ptr<PyLoop*> token_;  // the scheduled callback holds it weakly
  nanobind::object runner_;
  std::vector<std::function<void()>> pending_;
  bool scheduled_ = false;
};

// The backend name `name` resolves to ("" -> FASTERAPI_LOOP, else "epoll"; "io_uring" -> "uring");
// ValueError for an unknown name.
LoopBackend loop_backend(const std::string& name);

}  // namespace fa::py
