// UringRing: the io_uring backend of EventLoop (liburing). Two kinds of work share one ring:
//  - completion ops for the HTTP fast path: multishot accept, multishot recv into a ring of
//    provided buffers, and sends; their results come back as completions, no readiness step;
//  - readiness watchers, the seam for everything not ported (TLS connections, PostgreSQL,
//    MCP stdio, signalfd...): EventLoop::add/modify/remove become poll SQEs on the ring, so
//    IoHandler code runs unchanged on either backend.
// This header does not include liburing: code outside src/core sees only this interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace fa {

class IoHandler;

// Receives the completions of the ops it started (recv, send). It must stay alive until the
// last one has come back (a completion without `more`); Connection keeps a reference to itself
// while any op is in flight.
class UringCompletion {
 public:
  // kPosted: a user-space completion asked for with UringRing::post (res 0, no data).
  enum Op : unsigned { kRecv = 3, kSend = 4, kPosted = 5 };
  virtual ~UringCompletion() = default;
  // res: bytes (recv: `data` points at them, valid during the call only), 0 at EOF, or -errno.
  // more: the op stays armed (multishot) and will complete again.
  virtual void on_uring(Op op, int res, bool more, const char* data) = 0;
};

class UringRing {
 public:
  // Sets up the ring and its provided buffers. Null, with the reason in *why, when the kernel
  // refuses (no io_uring, seccomp, EPERM from io_uring_disabled, a too-old kernel).
  static std::unique_ptr<UringRing> create(std::string* why);
  ~UringRing();
  UringRing(const UringRing&) = delete;
  UringRing& operator=(const UringRing&) = delete;

  // The ring fd: readable while completions wait (embedders such as asyncio watch it).
  int fd() const;

  // Readiness watchers with epoll's level-triggered meaning (one-shot polls re-armed after
  // each dispatch). `events` are EPOLL* bits, which equal the POLL* bits. False with errno as
  // epoll_ctl would (EEXIST, ENOENT, EPERM for a regular file).
  bool watch(int fd, uint32_t events, IoHandler* handler);
  bool rewatch(int fd, uint32_t events, IoHandler* handler);
  void unwatch(int fd);

  // Multishot accept on a listening socket (accepted sockets are non-blocking, close-on-exec).
  // fn(res, more): res is the new fd or -errno; when `more` is false the accept ended and the
  // owner re-arms it if it still wants connections. Returns an id for cancel_accept.
  using AcceptFn = std::function<void(int res, bool more)>;
  uint64_t accept_multishot(int fd, AcceptFn fn);
  // Stops an accept now (submitted at once, so the caller may close the fd after it); fn is
  // never called again.
  void cancel_accept(uint64_t id);

  // Multishot recv into provided buffers; each completion carries one buffer's bytes.
  void recv_multishot(int fd, UringCompletion* target);
  // Cancels target's recv on fd (it completes with -ECANCELED, or already finished).
  void cancel_recv(UringCompletion* target);
  // Sends len bytes from data (which must stay valid until the completion).
  void send(int fd, const char* data, size_t len, UringCompletion* target);
  // Delivers kPosted to target in the next dispatch(), after the kernel's completions: work
  // for the next iteration without a std::function (target stays alive as for an op).
  void post(UringCompletion* target);
  bool has_posted() const;
  // Cancels every op on fd and submits now, so the caller may close the fd right after.
  void cancel_fd(int fd);

  // Submits what is queued and waits up to wait_ms (-1: forever) for a completion: one
  // io_uring_enter. wait_ms 0: no syscall at all (completions are read from shared memory).
  void wait(int wait_ms);
  // Dispatches the completions that are there. Returns how many reached a handler or target.
  int dispatch();
  // Submits what is queued (one io_uring_enter; none when nothing is).
  void submit_pending();
  void set_in_run(bool in_run) { in_run_ = in_run; }
  // Makes fd() readable soon (a NOP completion), for embedders; a no-op while one is pending.
  void wake();

 private:
  struct Impl;
  explicit UringRing(std::unique_ptr<Impl> impl);
  void queued();
  std::unique_ptr<Impl> impl_;
  bool in_run_ = false;
};

}  // namespace fa
