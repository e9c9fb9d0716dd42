// AsyncFd, connect and accept: readiness futures over fa::EventLoop (epoll, one-shot arming).
#include "core/loop_futures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace fa {

namespace {
std::exception_ptr sys_error(int err, const char* what) {
  return std::make_exception_ptr(std::system_error(err, std::generic_category(), what));
}
constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP;
constexpr uint32_t kErrorEvents = EPOLLERR | EPOLLHUP;
}  // namespace

// The loop's IoHandler for one fd. Armed with EPOLLONESHOT, so each wait costs one epoll_ctl
// and an idle fd (even at EOF) never wakes the loop.
struct AsyncFd::Watcher final : IoHandler {
  Watcher(EventLoop& l, int f) : loop(l), fd(f) {}
  ~Watcher() override = default;

  EventLoop& loop;
  int fd;
  bool registered = false;
  uint32_t armed_mask = 0;  // events currently armed (0: disarmed)
  bool want_read = false, want_write = false;
  promise<> read_pr, write_pr;

  uint32_t wanted() const {
    return (want_read ? kReadEvents : 0u) | (want_write ? uint32_t{EPOLLOUT} : 0u);
  }

  void fail_waiters(std::exception_ptr e) {
    if (want_read) {
      want_read = false;
      std::exchange(read_pr, promise<>()).set_exception(e);
    }
    if (want_write) {
      want_write = false;
      std::exchange(write_pr, promise<>()).set_exception(e);
    }
  }

  void arm() {
    uint32_t m = wanted();
    if (m == 0 || m == armed_mask || fd < 0) return;
    uint32_t ev = m | EPOLLONESHOT;
    bool ok = registered ? loop.modify(fd, ev, this) : loop.add(fd, ev, this);
    if (!ok) return fail_waiters(sys_error(errno, "AsyncFd: epoll_ctl"));
    registered = true;
    armed_mask = m;
  }

  void on_io(uint32_t events) override {
    armed_mask = 0;  // one-shot: epoll disarmed the fd
    bool err = events & kErrorEvents;
    promise<> r, w;
    bool fire_r = want_read && (err || (events & kReadEvents));
    bool fire_w = want_write && (err || (events & EPOLLOUT));
    if (fire_r) {
      want_read = false;
      r = std::move(read_pr);
    }
    if (fire_w) {
      want_write = false;
      w = std::move(write_pr);
    }
    arm();  // the waiter that did not fire stays armed
    // Continuations run here and may close or destroy the AsyncFd: this Watcher outlives
    // them (close() frees it through EventLoop::defer), and nothing below touches it.
    if (fire_r) r.set_value();
    if (fire_w) w.set_value();
  }

  future<> wait(bool& want, promise<>& pr, const char* who) {
    if (fd < 0) return make_exception_future<>(sys_error(EBADF, who));
    if (want)
      return make_exception_future<>(
          std::logic_error(std::string(who) + ": a waiter is already pending"));
    pr = promise<>();
    want = true;
    future<> f = pr.get_future();
    arm();
    return f;
  }
};

AsyncFd::AsyncFd(EventLoop& loop, int fd) : w_(std::make_shared<Watcher>(loop, fd)) {}
AsyncFd::AsyncFd(AsyncFd&&) noexcept = default;
AsyncFd& AsyncFd::operator=(AsyncFd&& o) noexcept {
  if (this != &o) {
    close();
    w_ = std::move(o.w_);
  }
  return *this;
}
AsyncFd::~AsyncFd() {
  close();
}

future<> AsyncFd::readable() {
  if (!w_) return make_exception_future<>(sys_error(EBADF, "AsyncFd::readable"));
  return w_->wait(w_->want_read, w_->read_pr, "AsyncFd::readable");
}
future<> AsyncFd::writable() {
  if (!w_) return make_exception_future<>(sys_error(EBADF, "AsyncFd::writable"));
  return w_->wait(w_->want_write, w_->write_pr, "AsyncFd::writable");
}
int AsyncFd::fd() const noexcept {
  return w_ ? w_->fd : -1;
}
EventLoop& AsyncFd::loop() const noexcept {
  return w_->loop;
}

void AsyncFd::close() noexcept {
  if (!w_) return;
  std::shared_ptr<Watcher> w = std::move(w_);
  if (w->registered) w->loop.remove(w->fd);
  ::close(w->fd);
  w->fd = -1;
  w->fail_waiters(sys_error(ECANCELED, "AsyncFd: closed"));
  // An event for this fd may still be queued in the current batch: free the handler later.
  w->loop.defer([keep = std::move(w)] {});
}

future<AsyncFd> connect(EventLoop& loop, const sockaddr* addr, socklen_t len) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_exception_future<AsyncFd>(sys_error(errno, "connect: socket"));
  AsyncFd sock(loop, fd);
  if (::connect(fd, addr, len) == 0) return make_ready_future<AsyncFd>(std::move(sock));
  if (errno != EINPROGRESS) return make_exception_future<AsyncFd>(sys_error(errno, "connect"));
  future<> ready = sock.writable();
  return std::move(ready).then([sock = std::move(sock)]() mutable -> AsyncFd {
    int err = 0;
    socklen_t n = sizeof err;
    if (::getsockopt(sock.fd(), SOL_SOCKET, SO_ERROR, &err, &n) != 0) err = errno;
    if (err != 0) throw std::system_error(err, std::generic_category(), "connect");
    return std::move(sock);
  });
}

future<AsyncFd> connect_tcp(EventLoop& loop, std::string_view ip, uint16_t port) {
  std::string host(ip);
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    return connect(loop, reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
  }
  if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    return connect(loop, reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
  }
  return make_exception_future<AsyncFd>(
      std::invalid_argument("connect_tcp: not a numeric IP: " + host));
}

future<AsyncFd> accept(AsyncFd& listener) {
  int fd = ::accept4(listener.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) return make_ready_future<AsyncFd>(AsyncFd(listener.loop(), fd));
  if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    return make_exception_future<AsyncFd>(sys_error(errno, "accept"));
  }
  // Not ready: wait, then try again (a readiness wake-up can be spurious if another
  // acceptor took the connection).
  return listener.readable().then([&listener] { return accept(listener); });
}

future<size_t> read_some(AsyncFd& fd, std::span<std::byte> buf) {
  for (;;) {
    ssize_t n = ::read(fd.fd(), buf.data(), buf.size());
    if (n >= 0) return make_ready_future<size_t>(static_cast<size_t>(n));
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return make_exception_future<size_t>(sys_error(errno, "read_some"));
    return fd.readable().then([&fd, buf] { return read_some(fd, buf); });
  }
}

future<> write_all(AsyncFd& fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd.fd(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd.fd(), data.data(), data.size());
    if (n >= 0) {
      data = data.subspan(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return make_exception_future<>(sys_error(errno, "write_all"));
    return fd.writable().then([&fd, data] { return write_all(fd, data); });
  }
  return make_ready_future<>();
}

}  // namespace fa
