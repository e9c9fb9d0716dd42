#include "worker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace fa::loadgen {

void Stats::merge(const Stats& o) {
  responses += o.responses;
  bytes += o.bytes;
  non2xx += o.non2xx;
  connect_errors += o.connect_errors;
  read_errors += o.read_errors;
  write_errors += o.write_errors;
  timeouts += o.timeouts;
  lost += o.lost;
  seconds = std::max(seconds, o.seconds);
  latency.merge(o.latency);
}

// One keep-alive connection. It stays in the worker's vector for the whole run (the loop
// keeps a raw pointer to it); a lost connection is replaced by a new socket in the same object.
class Worker::Conn final : public IoHandler {
 public:
  explicit Conn(Worker& w) : w_(w) {}
  ~Conn() override { close_fd(); }

  void start() {
    fd_ = ::socket(w_.target_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return connect_failed();
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&w_.target_.addr), w_.target_.len) < 0 &&
        errno != EINPROGRESS) {
      return connect_failed();
    }
    connecting_ = true;
    want_out_ = true;
    w_.loop_.add(fd_, EPOLLIN | EPOLLOUT, this);
  }

  void on_io(uint32_t events) override {
    if (fd_ < 0) return;  // a stale event for a socket already closed
    if (connecting_) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) return connect_failed();
      connecting_ = false;
      watch_out(false);
      send_batch();
      return;
    }
    if (events & EPOLLOUT) {
      flush();
      if (fd_ < 0) return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) read();
  }

  size_t pending() const { return pending_; }
  TimePoint sent_at() const { return sent_at_; }

  // The connection is given up (timeout): its requests are lost, a new one takes its place.
  void replace() {
    lose_pending();
    close_fd();
    reconnect_later();
  }

 private:
  void send_batch() {
    out_.clear();
    out_off_ = 0;
    int n = w_.exhausted_ ? 0 : w_.source_.next(&out_, w_.o_.pipeline);
    if (n == 0) {
      w_.exhausted_ = true;
      w_.maybe_finish();
      return;
    }
    pending_ = static_cast<size_t>(n);
    w_.in_flight_ += n;
    sent_at_ = Clock::now();
    flush();
  }

  void flush() {
    while (out_off_ < out_.size()) {
      ssize_t k = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
      if (k < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return watch_out(true);
        if (errno == EINTR) continue;
        if (w_.measuring_) ++w_.stats_.write_errors;
        return replace();
      }
      out_off_ += static_cast<size_t>(k);
    }
    watch_out(false);
  }

  void read() {
    std::string& buf = w_.rbuf_;
    for (;;) {
      ssize_t r = ::recv(fd_, buf.data(), buf.size(), 0);
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        if (w_.measuring_) ++w_.stats_.read_errors;
        return replace();
      }
      if (r == 0) {  // EOF: completes a body delimited by the close; anything else is lost
        if (parser_.finish()) {
          complete(Clock::now());
          if (fd_ < 0) return;
        }
        if (pending_ > 0 && w_.measuring_) ++w_.stats_.read_errors;
        return replace();
      }
      if (w_.measuring_) w_.stats_.bytes += static_cast<uint64_t>(r);
      TimePoint now = Clock::now();  // one clock read per read, not per response
      std::string_view data(buf.data(), static_cast<size_t>(r));
      while (!data.empty()) {
        size_t used = 0;
        ResponseParser::Result res = parser_.feed(data, &used);
        data.remove_prefix(used);
        if (res == ResponseParser::Result::kNeedMore) break;
        if (res == ResponseParser::Result::kError || pending_ == 0) {
          // Malformed, or a response nobody asked for.
          if (w_.measuring_) ++w_.stats_.read_errors;
          if (res == ResponseParser::Result::kError) {
            std::fprintf(stderr, "loadgen: bad response: %s\n", parser_.error());
          }
          return replace();
        }
        complete(now);
        if (fd_ < 0) return;  // the server closed after this response
      }
      if (static_cast<size_t>(r) < buf.size()) return;  // drained (level-triggered)
    }
  }

  void complete(TimePoint now) {
    Stats& s = w_.stats_;
    if (w_.measuring_) {
      ++s.responses;
      if (parser_.status() / 100 != 2) ++s.non2xx;
      s.latency.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent_at_).count()));
    }
    w_.last_progress_ = now;
    --pending_;
    --w_.in_flight_;
    bool keep = parser_.keep_alive();
    parser_.reset(w_.source_.head_requests());
    if (!keep) {  // "Connection: close": not an error, but what is still pipelined is lost
      lose_pending();
      close_fd();
      reconnect_later();
      w_.maybe_finish();
      return;
    }
    if (pending_ == 0) send_batch();
  }

  void lose_pending() {
    w_.stats_.lost += pending_;
    w_.in_flight_ -= static_cast<int64_t>(pending_);
    pending_ = 0;
  }

  void connect_failed() {
    if (w_.measuring_ || w_.o_.requests > 0) ++w_.stats_.connect_errors;
    close_fd();
    // Not at once: a refused connect would spin. 10 ms is short next to any measured run.
    w_.loop_.call_later(std::chrono::milliseconds(10), [this] { start(); });
  }

  void reconnect_later() {
    if (w_.exhausted_) return w_.maybe_finish();
    // On the next iteration, so that no event of this batch can reach the new socket.
    w_.loop_.defer([this] {
      if (fd_ < 0 && !w_.exhausted_) start();
    });
    w_.maybe_finish();
  }

  void watch_out(bool on) {
    if (want_out_ == on) return;
    want_out_ = on;
    w_.loop_.modify(fd_, EPOLLIN | (on ? EPOLLOUT : 0u), this);
  }

  void close_fd() {
    if (fd_ < 0) return;
    w_.loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
    connecting_ = false;
    parser_.reset(w_.source_.head_requests());
  }

  Worker& w_;
  int fd_ = -1;
  bool connecting_ = false;
  bool want_out_ = false;
  ResponseParser parser_;
  std::string out_;
  size_t out_off_ = 0;
  size_t pending_ = 0;
  TimePoint sent_at_;
};

Worker::Worker(const Options& o, const Target& target, int connections, RequestSource& source)
    : o_(o), target_(target), source_(source), loop_(o.loop), rbuf_(64 * 1024, '\0') {
  for (int i = 0; i < connections; ++i) conns_.push_back(std::make_unique<Conn>(*this));
}

Worker::~Worker() { conns_.clear(); }

void Worker::maybe_finish() {
  if (o_.requests > 0 && exhausted_ && in_flight_ == 0) loop_.stop();
}

void Worker::check_timeouts() {
  TimePoint now = Clock::now();
  auto limit = std::chrono::duration_cast<Duration>(o_.timeout);
  for (auto& c : conns_) {
    if (c->pending() > 0 && now - c->sent_at() > limit) {
      if (measuring_ || o_.requests > 0) ++stats_.timeouts;
      c->replace();
    }
  }
  // With a request budget, give up when nothing has been answered for 30 s.
  if (o_.requests > 0 && now - last_progress_ > std::chrono::seconds(30)) {
    std::fprintf(stderr, "loadgen: no response for 30 s, giving up\n");
    loop_.stop();
    return;
  }
  auto every = std::min<Duration>(limit / 4, std::chrono::milliseconds(250));
  loop_.call_later(every, [this] { check_timeouts(); });
}

void Worker::run() {
  last_progress_ = Clock::now();
  if (o_.requests > 0) {  // a fixed amount of work: all of it is measured
    measuring_ = true;
    measure_start_ = Clock::now();
  } else {
    auto warm = std::chrono::duration_cast<Duration>(o_.warmup);
    auto total = std::chrono::duration_cast<Duration>(o_.duration);
    loop_.call_later(warm, [this, total] {
      stats_ = Stats{};
      measuring_ = true;
      measure_start_ = Clock::now();
      loop_.call_later(total, [this] { loop_.stop(); });
    });
  }
  for (auto& c : conns_) c->start();
  loop_.call_later(std::chrono::milliseconds(50), [this] { check_timeouts(); });
  loop_.run();
  stats_.seconds = std::chrono::duration<double>(Clock::now() - measure_start_).count();
}

}  // namespace fa::loadgen
