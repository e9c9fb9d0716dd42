// Transport: how a connection's bytes reach the socket. PlainTransport is TCP; TlsTransport
// (src/tls, OpenSSL) is the other implementation, so protocols and the connection layer never
// change for it.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#ifdef __linux__
#include <sys/sendfile.h>
#endif

#include <cerrno>
#include <string_view>

namespace fa {

class Transport {
 public:
  virtual ~Transport() = default;
  // Reads up to len bytes: > 0 bytes read, 0 at orderly EOF, -1 with errno (EAGAIN: none now).
  virtual ssize_t read(char* buf, size_t len) = 0;
  // Writes from the iovecs: bytes written, or -1 with errno (EAGAIN: would block).
  virtual ssize_t writev(const iovec* iov, int count) = 0;
  // writev whose bytes a sendfile() follows at once: plain TCP holds a partial segment back
  // (MSG_MORE) so a response head and the start of its file leave in one packet.
  virtual ssize_t writev_more(const iovec* iov, int count) { return writev(iov, count); }
  // Sends count bytes of in_fd from *offset without copying them through user space, advancing
  // *offset: bytes sent, or -1 with errno (EAGAIN: would block; ENOTSUP: this transport cannot,
  // e.g. TLS without kTLS, and the caller reads and writes the bytes instead).
  virtual ssize_t sendfile(int /*in_fd*/, off_t* /*offset*/, size_t /*count*/) {
    errno = ENOTSUP;
    return -1;
  }
  // Ends our sending side (TLS sends close_notify first). The fd stays open for reading.
  virtual void shutdown_write() = 0;
  // False while a handshake (TLS) is still under way: reads drive it, writes wait for it.
  virtual bool established() const { return true; }
  // The handshake is blocked on sending: the connection should wait for writability.
  virtual bool wants_write() const { return false; }
  // The application protocol chosen by ALPN (RFC 7301), e.g. "h2"; empty when none.
  virtual std::string_view alpn() const { return {}; }
  // Input already taken from the socket that read() would return without new socket input
  // (TLS read-ahead): epoll does not report it, so a reader that filled its buffer reads on.
  virtual bool has_buffered_input() const { return false; }
  // Whether the bytes are encrypted (https/wss).
  virtual bool secure() const { return false; }
};

// Plain TCP on a non-blocking socket; never raises SIGPIPE.
class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  ssize_t read(char* buf, size_t len) override { return ::recv(fd_, buf, len, 0); }
  ssize_t writev(const iovec* iov, int count) override {
    if (count == 1) return ::send(fd_, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<size_t>(count);
    return ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
  }
#ifdef __linux__
  ssize_t writev_more(const iovec* iov, int count) override {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<size_t>(count);
    return ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_MORE);
  }
  ssize_t sendfile(int in_fd, off_t* offset, size_t count) override {
    return ::sendfile(fd_, in_fd, offset, count);
  }
#endif
  void shutdown_write() override { ::shutdown(fd_, SHUT_WR); }

 private:
  int fd_;
};

}  // namespace fa
