// FdStream: non-blocking reads, and writes straight from the caller or queued, on one fd.
#include "mcp/client/fd_stream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

namespace fa::mcp::client {

namespace {

// read(2)/writev(2) for pipes; PlainTransport (send/recv, no SIGPIPE) for sockets.
class PipeTransport final : public Transport {
 public:
  explicit PipeTransport(int fd) : fd_(fd) {}
  ssize_t read(char* buf, size_t len) override { return ::read(fd_, buf, len); }
  ssize_t writev(const iovec* iov, int count) override { return ::writev(fd_, iov, count); }
  void shutdown_write() override {}

 private:
  int fd_;
};

}  // namespace

std::shared_ptr<FdStream> FdStream::open(EventLoop& loop, int fd, bool socket, bool reading,
                                         Callbacks callbacks,
                                         std::unique_ptr<Transport> transport) {
  return std::shared_ptr<FdStream>(
      new FdStream(loop, fd, socket, reading, std::move(callbacks), std::move(transport)));
}

FdStream::FdStream(EventLoop& loop, int fd, bool socket, bool reading, Callbacks callbacks,
                   std::unique_ptr<Transport> transport)
    : loop_(loop),
      fd_(fd),
      socket_(socket),
      reading_(reading),
      cb_(std::move(callbacks)),
      transport_(std::move(transport)) {
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  ::fcntl(fd_, F_SETFD, FD_CLOEXEC);  // children spawned later must not inherit it
  if (!transport_ && socket_)
    transport_ = std::make_unique<PlainTransport>(fd_);
  else if (!transport_)
    transport_ = std::make_unique<PipeTransport>(fd_);
  update_interest();
}

FdStream::~FdStream() {
  close();
}

void FdStream::close() {
  if (fd_ < 0) return;
  if (registered_) loop_.remove(fd_);
  registered_ = false;
  ::close(fd_);
  fd_ = -1;
  out_.clear();
  writable_ = nullptr;
  // The loop may still hold this handler's pointer for a later event of the current batch
  // (event_loop.h): keep the object alive until the batch is over.
  if (auto self = weak_from_this().lock()) loop_.defer([self] {});
}

bool FdStream::write(std::string_view bytes, std::string_view more) {
  if (fd_ < 0) return false;
  if (out_.empty() && !writable_ && transport_->established()) {
    // Nothing queued and nothing to wait for (the usual case): one writev from the caller's
    // buffers; only what the fd does not take now is copied to the queue.
    iovec iov[2] = {{const_cast<char*>(bytes.data()), bytes.size()},
                    {const_cast<char*>(more.data()), more.size()}};
    ssize_t n;
    do n = transport_->writev(iov, more.empty() ? 1 : 2);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      fail(errno);
      return false;
    }
    size_t written = n < 0 ? 0 : static_cast<size_t>(n);
    if (written == bytes.size() + more.size()) return true;
    if (written < bytes.size()) {
      out_.append(bytes.substr(written));
      written = 0;
    } else {
      written -= bytes.size();
    }
    out_.append(more.substr(written));
    update_interest();  // EPOLLOUT until the rest is out
    return fd_ >= 0;
  }
  out_.append(bytes);
  out_.append(more);
  flush();
  return fd_ >= 0;
}

void FdStream::on_writable(std::function<void()> fn) {
  writable_ = std::move(fn);
  update_interest();
}

void FdStream::flush() {
  if (fd_ < 0 || writable_) return;
  if (!out_.empty() && out_.flush(*transport_) < 0) return fail(errno);
  update_interest();
}

void FdStream::update_interest() {
  if (fd_ < 0) return;
  // During a TLS handshake queued bytes wait for it; writability matters only when OpenSSL is
  // blocked on sending (else EPOLLOUT would fire on every loop pass).
  bool out = !out_.empty() && (transport_->established() || transport_->wants_write());
  uint32_t want = (reading_ ? EPOLLIN | EPOLLRDHUP : 0u) | ((out || writable_) ? EPOLLOUT : 0u);
  if (want == interest_ && registered_) return;
  interest_ = want;
  if (!registered_) {
    registered_ = loop_.add(fd_, want, this);
    if (!registered_) fail(errno);
  } else {
    loop_.modify(fd_, want, this);
  }
}

void FdStream::fail(int error) {
  if (fd_ < 0) return;
  auto cb = std::move(cb_.on_closed);
  close();
  if (cb) cb(error);
}

void FdStream::on_io(uint32_t events) {
  auto self = shared_from_this();  // a callback may drop the owner's reference
  if (fd_ < 0) return;
  if ((events & EPOLLOUT) && writable_) {
    int err = 0;
    socklen_t len = sizeof err;
    if (socket_ && ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
      return fail(err);
    auto fn = std::move(writable_);
    writable_ = nullptr;
    fn();
    if (fd_ < 0) return;
  }
  if (events & EPOLLOUT) flush();
  if (fd_ < 0) return;
  if (reading_ && (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR))) {
    // Read until EAGAIN (at most a few chunks per event, so one busy peer cannot starve others).
    for (int round = 0; round < 16 && fd_ >= 0; ++round) {
      buf_.resize(kReadChunkBytes);
      ssize_t n = transport_->read(buf_.data(), buf_.size());
      if (n > 0) {
        if (cb_.on_data) cb_.on_data(std::string_view(buf_.data(), static_cast<size_t>(n)));
        // A short read drained the pipe or socket: the loop polls level-triggered (epoll
        // without EPOLLET; io_uring's one-shot poll re-armed after dispatch), so it reports
        // what arrives next, EOF included; reading again now would only return EAGAIN (one
        // syscall per message). Unless TLS holds decrypted bytes the socket's readiness does
        // not show (has_buffered_input).
        if (static_cast<size_t>(n) < buf_.size() && !transport_->has_buffered_input()) break;
        continue;
      }
      if (n == 0) return fail(0);
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return fail(errno);
    }
    // A read may have finished a TLS handshake (or unblocked its sending): queued bytes go now.
    if (fd_ >= 0 && !out_.empty()) flush();
  } else if (!reading_ && (events & (EPOLLERR | EPOLLHUP))) {
    fail(EPIPE);  // the reading end of our pipe is gone
  }
}

}  // namespace fa::mcp::client
