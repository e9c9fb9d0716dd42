// StdioTransport: newline framing on non-blocking stdin/stdout.
#include "mcp/stdio_transport.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace fa::mcp {

namespace {

// Pipes, terminals and files: read(2)/writev(2), unlike PlainTransport's socket calls.
class FdTransport final : public Transport {
 public:
  explicit FdTransport(int fd) : fd_(fd) {}
  ssize_t read(char* buf, size_t len) override { return ::read(fd_, buf, len); }
  ssize_t writev(const iovec* iov, int count) override { return ::writev(fd_, iov, count); }
  void shutdown_write() override {}

 private:
  int fd_;
};

bool set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

}  // namespace

class StdioTransport::Reader final : public IoHandler {
 public:
  explicit Reader(StdioTransport& t) : t_(t) {}
  void on_io(uint32_t) override { t_.read_ready(); }

 private:
  StdioTransport& t_;
};

class StdioTransport::Writer final : public IoHandler {
 public:
  explicit Writer(StdioTransport& t) : t_(t) {}
  void on_io(uint32_t) override { t_.flush(); }

 private:
  StdioTransport& t_;
};

// Every message of every exchange goes to stdout, one per line.
class StdioTransport::Out final : public Channel {
 public:
  explicit Out(StdioTransport* t) : t_(t) {}
  void send(std::string_view message, bool, bool) override {
    if (t_) t_->write(message);
  }
  StdioTransport* t_;
};

StdioTransport::StdioTransport(EventLoop& loop, ServerCore& core, int in_fd, int out_fd)
    : loop_(loop),
      core_(core),
      in_fd_(in_fd),
      out_fd_(out_fd),
      reader_(std::make_unique<Reader>(*this)),
      writer_(std::make_unique<Writer>(*this)),
      out_(std::make_shared<Out>(this)),
      session_(std::make_shared<Session>()) {
  session_->notifier = out_;  // list_changed and resource updates go to stdout too
}

StdioTransport::~StdioTransport() {
  *alive_ = false;
  out_->t_ = nullptr;  // replies still held by the application go nowhere
  if (in_polled_) loop_.remove(in_fd_);
  if (out_watching_) loop_.remove(out_fd_);
  core_.end_session(*session_);
  if (in_flags_ >= 0) ::fcntl(in_fd_, F_SETFL, in_flags_);
  if (out_flags_ >= 0) ::fcntl(out_fd_, F_SETFL, out_flags_);
}

bool StdioTransport::start() {
  // A closed reader must surface as EPIPE from write(2), not kill the process.
  struct sigaction old{};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
  // The fds may be a terminal shared with the parent shell: remember their flags to restore.
  in_flags_ = ::fcntl(in_fd_, F_GETFL);
  out_flags_ = ::fcntl(out_fd_, F_GETFL);
  if (!set_nonblocking(in_fd_) || !set_nonblocking(out_fd_)) return false;
  if (loop_.add(in_fd_, EPOLLIN | EPOLLRDHUP, reader_.get())) {
    in_polled_ = true;
  } else if (errno == EPERM) {
    // A regular file (`server < requests.jsonl`) cannot be polled; it never blocks either.
    loop_.defer([this, alive = alive_] { if (*alive) read_ready(); });
  } else {
    return false;
  }
  return true;
}

void StdioTransport::read_ready() {
  if (eof_ || closed_) return;
  char chunk[kReadChunkBytes];
  for (int rounds = 0; rounds < 16; ++rounds) {  // then let other work run
    ssize_t n = ::read(in_fd_, chunk, sizeof chunk);
    if (n > 0) {
      in_.append(chunk, static_cast<size_t>(n));
      consume_lines();
      if (closed_) return;
      // A short read drained the pipe: stdin is polled level-triggered, so epoll reports what
      // arrives next; reading again now would only return EAGAIN (one syscall per message).
      if (in_polled_ && static_cast<size_t>(n) < sizeof chunk) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // polled: wait for EPOLLIN
    // EOF or a read error: handle a last unterminated message, then finish.
    if (n < 0) FA_LOG(LogLevel::kWarning, "mcp stdio: read failed: %s", std::strerror(errno));
    eof_ = true;
    if (in_polled_) {
      loop_.remove(in_fd_);
      in_polled_ = false;
    }
    if (!in_.empty() && !discarding_) handle_line(in_);
    in_.clear();
    core_.end_session(*session_);
    if (queue_.empty()) finish();
    return;
  }
  // Level-triggered epoll calls again for a polled fd; a file is read on the next iteration.
  if (!in_polled_) loop_.defer([this, alive = alive_] { if (*alive) read_ready(); });
}

void StdioTransport::consume_lines() {
  size_t start = 0;
  while (true) {
    size_t nl = in_.find('\n', std::max(start, scanned_));
    if (nl == std::string::npos) break;
    if (discarding_) {
      discarding_ = false;
    } else {
      std::string_view line(in_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      handle_line(line);
      if (closed_) return;
    }
    start = nl + 1;
    scanned_ = 0;
  }
  in_.erase(0, start);
  scanned_ = in_.size();
  if (in_.size() > kMaxMessageBytes) {
    // An unterminated message past the limit: refuse it now, skip the rest of its line.
    if (!discarding_) {
      std::string out;
      encode_error(out, {}, kInvalidRequest, "Invalid Request: message too large");
      write(out);
    }
    discarding_ = true;
    in_.clear();
    scanned_ = 0;
  }
}

void StdioTransport::handle_line(std::string_view line) {
  // basic/transports.mdx: messages are delimited by newlines; blank lines carry nothing.
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == line.size()) return;
  core_.handle(session_, line, out_);
}

void StdioTransport::write(std::string_view message) {
  if (closed_) return;
  if (queue_.empty()) {
    // Nothing queued (the usual case): the message and its newline go out in one writev(2)
    // straight from the caller's buffer; only what the pipe does not take is copied to the
    // queue (no segment allocated and freed per message).
    iovec iov[2] = {{const_cast<char*>(message.data()), message.size()},
                    {const_cast<char*>("\n"), 1}};
    ssize_t n;
    do n = ::writev(out_fd_, iov, 2);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      FA_LOG(LogLevel::kWarning, "mcp stdio: write failed: %s", std::strerror(errno));
      finish();
      return;
    }
    const size_t written = n < 0 ? 0 : static_cast<size_t>(n);
    if (written == message.size() + 1) {
      if (eof_) finish();
      return;
    }
    if (written < message.size()) queue_.append(message.substr(written));
    queue_.append(std::string_view("\n", 1));
  } else {
    queue_.append(message);
    queue_.append(std::string_view("\n", 1));
  }
  flush();
}

void StdioTransport::flush() {
  if (closed_) return;
  FdTransport out(out_fd_);
  while (!queue_.empty()) {
    long n = queue_.flush(out);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      FA_LOG(LogLevel::kWarning, "mcp stdio: write failed: %s", std::strerror(errno));
      queue_.clear();
      finish();
      return;
    }
    if (!queue_.empty()) break;  // would block: wait for EPOLLOUT
  }
  if (!queue_.empty() && !out_watching_) {
    if (loop_.add(out_fd_, EPOLLOUT, writer_.get())) {
      out_watching_ = true;
    } else {
      loop_.defer([this, alive = alive_] { if (*alive) flush(); });
    }
  } else if (queue_.empty() && out_watching_) {
    loop_.remove(out_fd_);
    out_watching_ = false;
  }
  if (queue_.empty() && eof_) finish();
}

void StdioTransport::finish() {
  if (closed_) return;
  closed_ = true;
  if (in_polled_) {
    loop_.remove(in_fd_);
    in_polled_ = false;
  }
  if (out_watching_) {
    loop_.remove(out_fd_);
    out_watching_ = false;
  }
  if (on_closed_) {
    auto fn = std::move(on_closed_);
    fn();
  }
}

}  // namespace fa::mcp
