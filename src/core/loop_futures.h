// Loop integration: socket readiness, connect and accept as futures on fa::EventLoop.
// (sleep and with_timeout live in future_timers.h; they need only the loop's timers.)
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/event_loop.h"
#include "core/future.h"

namespace fa {

// A non-blocking fd owned by this object and registered with a loop on demand, whose
// readiness is awaited as futures. One waiter per direction at a time. Movable; the loop
// handler lives on the heap so moves do not disturb the registration.
class AsyncFd {
 public:
  AsyncFd(EventLoop& loop, int fd);  // takes ownership of fd (must be non-blocking)
  AsyncFd(AsyncFd&&) noexcept;
  AsyncFd& operator=(AsyncFd&&) noexcept;
  ~AsyncFd();  // close()

  // Resolves when the fd is readable, at EOF, or has an error (level-triggered, one-shot).
  // Fails with std::logic_error if a read waiter is already pending, std::system_error if
  // the loop refuses the fd.
  future<> readable();
  // Resolves when the fd is writable or has an error; same rules as readable().
  future<> writable();

  int fd() const noexcept;
  EventLoop& loop() const noexcept;
  explicit operator bool() const noexcept { return w_ != nullptr; }
  // Unregisters and closes the fd; pending waiters fail with std::system_error(ECANCELED).
  void close() noexcept;

 private:
  struct Watcher;
  std::shared_ptr<Watcher> w_;
};

// Connects a new non-blocking TCP socket to `addr`; resolves once connected (SO_ERROR = 0),
// fails with std::system_error carrying the connect error otherwise.
future<AsyncFd> connect(EventLoop& loop, const sockaddr* addr, socklen_t len);
// Same, for a numeric IPv4/IPv6 address; fails with std::invalid_argument if `ip` is not one.
future<AsyncFd> connect_tcp(EventLoop& loop, std::string_view ip, uint16_t port);

// Accepts one connection on the listening `listener` (which must outlive the future);
// resolves with the new non-blocking socket, fails with std::system_error.
future<AsyncFd> accept(AsyncFd& listener);

// Reads up to buf.size() bytes, waiting for readability only if nothing is buffered; resolves
// with the byte count (0 at EOF), fails with std::system_error. `fd` and `buf` must outlive it.
future<size_t> read_some(AsyncFd& fd, std::span<std::byte> buf);
// Writes all of `data`, waiting for writability whenever the socket buffer is full; fails with
// std::system_error (EPIPE without SIGPIPE). `fd` and `data` must outlive the future.
future<> write_all(AsyncFd& fd, std::span<const std::byte> data);

// Runs loop iterations until `f` is ready, then returns its value (or rethrows). For tests and
// for blocking entry points such as main(); never call it from inside the loop.
template <typename T>
T run_until_ready(EventLoop& loop, future<T>& f) {
  while (!f.available()) loop.run_once(-1);
  return f.get();
}

}  // namespace fa
