// onemrc_client — load generator for the 1 Million Request Challenge.
//
// Opens --connections keep-alive connections to --host:--port (epoll, one thread) and sends
// exactly --requests `POST /event {"userId","value"}` with one request in flight per
// connection. Request i carries userId "user-<i % users>" and value (i * 7) % 1000 + 1, so
// the expected totals are known. Then `GET /stats` and compare its totalRequests,
// uniqueUsers and sum. Prints req/s and EXACT or MISMATCH; the last line is a JSON summary.
// Exit status: 0 EXACT, 1 MISMATCH, 2 bad arguments or the server unreachable.
//
// Build: g++ -O2 -std=c++20 -o onemrc_client onemrc_client.cpp
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "http_response.h"

namespace {

constexpr int kStallTimeoutMs = 30'000;  // give up if no response arrives for 30 s
constexpr std::size_t kReadChunk = 64 * 1024;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8000;
  long requests = 1'000'000;
  int connections = 1000;
  long users = 100'000;  // distinct userIds cycle with this period
};

struct Expected {
  long count = 0;
  long users = 0;
  double sum = 0;  // integer values: exact in a double far past 1e6 * 1000
};

long value_of(long i) { return (i * 7) % 1000 + 1; }

void append_number(std::string& out, long v) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
}

// Writes request i into out (reusing its capacity: no allocation per request once warm, so
// the client's own CPU, on the core beside the server's, stays small).
void event_request(const Options& o, long i, std::string& out) {
  thread_local std::string body;
  body.assign("{\"userId\":\"user-");
  append_number(body, i % o.users);
  body.append("\",\"value\":");
  append_number(body, value_of(i));
  body.append("}");
  out.assign("POST /event HTTP/1.1\r\nHost: ").append(o.host);
  out.append("\r\nContent-Type: application/json\r\nContent-Length: ");
  append_number(out, static_cast<long>(body.size()));
  out.append("\r\n\r\n").append(body);
}

class Fd {
 public:
  Fd() : fd_(-1) {}
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    reset(other.fd_);
    other.fd_ = -1;
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

struct Conn {
  Fd fd;
  std::string out;
  std::size_t out_off = 0;
  std::string in;
  bool in_flight = false;
  bool want_out = true;  // EPOLLOUT in the epoll mask (until the first write completes)
};

// Returns a connected-or-connecting non-blocking socket, or an invalid Fd on error.
Fd open_socket(const Options& o, bool blocking) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0));
  if (fd.get() < 0) return fd;
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 &&
      errno != EINPROGRESS) {
    fd.reset();
  }
  return fd;
}

class Driver {
 public:
  explicit Driver(const Options& o) : o_(o), conns_(o.connections) {}

  // Runs the load; returns false if the server stopped answering.
  bool run() {
    epoll_.reset(::epoll_create1(0));
    for (int c = 0; c < o_.connections; ++c) {
      if (!connect(c)) return false;
    }
    std::vector<epoll_event> events(1024);
    while (done_ < o_.requests - lost_) {
      int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                           kStallTimeoutMs);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::fprintf(stderr, "onemrc: no response for %d ms, giving up\n", kStallTimeoutMs);
        return false;
      }
      for (int e = 0; e < n; ++e) handle(static_cast<int>(events[e].data.u32), events[e].events);
    }
    return true;
  }

  long done() const { return done_; }
  long errors() const { return errors_ + lost_; }
  long sent() const { return next_; }

 private:
  bool connect(int c) {
    Conn& conn = conns_[c];
    conn = Conn{};
    conn.fd = open_socket(o_, false);
    if (conn.fd.get() < 0) {
      std::perror("onemrc: socket/connect");
      return false;
    }
    epoll_event ev{EPOLLIN | EPOLLOUT, {}};
    ev.data.u32 = static_cast<uint32_t>(c);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, conn.fd.get(), &ev);
    send_next(c);
    return true;
  }

  void send_next(int c) {
    Conn& conn = conns_[c];
    if (next_ >= o_.requests) return;
    event_request(o_, next_++, conn.out);
    conn.out_off = 0;
    conn.in_flight = true;
    flush(c);
  }

  void flush(int c) {
    Conn& conn = conns_[c];
    while (conn.out_off < conn.out.size()) {
      ssize_t w = ::send(conn.fd.get(), conn.out.data() + conn.out_off,
                         conn.out.size() - conn.out_off, MSG_NOSIGNAL);
      if (w < 0) {  // EAGAIN or still connecting: EPOLLOUT brings us back
        watch_out(c, true);
        return;
      }
      conn.out_off += static_cast<std::size_t>(w);
    }
    watch_out(c, false);
  }

  // One epoll_ctl only when the mask changes: a syscall per request would cost as much as
  // the server's own work on a small request.
  void watch_out(int c, bool on) {
    if (conns_[c].want_out == on) return;
    conns_[c].want_out = on;
    epoll_event ev{EPOLLIN | (on ? EPOLLOUT : 0u), {}};
    ev.data.u32 = static_cast<uint32_t>(c);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, conns_[c].fd.get(), &ev);
  }

  void handle(int c, uint32_t mask) {
    Conn& conn = conns_[c];
    if (mask & EPOLLOUT) flush(c);
    if (!(mask & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    char buf[kReadChunk];
    for (;;) {
      ssize_t r = ::recv(conn.fd.get(), buf, sizeof buf, 0);
      if (r > 0) {
        conn.in.append(buf, static_cast<std::size_t>(r));
        if (static_cast<std::size_t>(r) < sizeof buf) break;  // drained; epoll is level-triggered
        continue;
      }
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      closed(c);  // EOF or error
      return;
    }
    for (;;) {
      onemrc::ResponseSpan span = onemrc::parse_response(conn.in);
      if (span.length == 0) return;
      if (span.length < 0) {
        std::fprintf(stderr, "onemrc: malformed response: %.80s\n", conn.in.c_str());
        closed(c);
        return;
      }
      conn.in.erase(0, static_cast<std::size_t>(span.length));
      conn.in_flight = false;
      ++done_;
      if (span.status / 100 != 2) ++errors_;
      send_next(c);
    }
  }

  // A request in flight on a closed connection is lost: the server may or may not have
  // counted it, so it is not sent again (that could count it twice) and the run is inexact.
  void closed(int c) {
    if (conns_[c].in_flight) ++lost_;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, conns_[c].fd.get(), nullptr);
    conns_[c].fd.reset();
    if (next_ < o_.requests) connect(c);
  }

  const Options& o_;
  std::vector<Conn> conns_;
  Fd epoll_;
  long next_ = 0;
  long done_ = 0;
  long errors_ = 0;
  long lost_ = 0;
};

// Returns the body of GET /stats, or "" if the server did not answer.
std::string fetch_stats(const Options& o) {
  Fd fd = open_socket(o, true);
  if (fd.get() < 0) return "";
  std::string req = "GET /stats HTTP/1.1\r\nHost: " + o.host + "\r\nConnection: close\r\n\r\n";
  if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) < 0) return "";
  std::string in;
  char buf[kReadChunk];
  for (;;) {
    onemrc::ResponseSpan span = onemrc::parse_response(in);
    if (span.length > 0) return onemrc::response_body(in, span);
    ssize_t r = ::recv(fd.get(), buf, sizeof buf, 0);
    if (r <= 0) return "";
    in.append(buf, static_cast<std::size_t>(r));
  }
}

// Returns the number after "key": in a flat JSON object, or NaN if absent.
double json_number(const std::string& body, const char* key) {
  std::size_t at = body.find(std::string("\"") + key + "\"");
  if (at == std::string::npos) return __builtin_nan("");
  at = body.find(':', at);
  if (at == std::string::npos) return __builtin_nan("");
  return std::strtod(body.c_str() + at + 1, nullptr);
}

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--host") o.host = v;
    else if (flag == "--port") o.port = std::atoi(v);
    else if (flag == "--requests") o.requests = std::atol(v);
    else if (flag == "--connections") o.connections = std::atoi(v);
    else if (flag == "--users") o.users = std::atol(v);
    else return false;
  }
  return argc % 2 == 1 && o.port > 0 && o.requests > 0 && o.connections > 0 && o.users > 0;
}

void raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: onemrc_client [--host H] [--port N] [--requests N] "
                 "[--connections N] [--users N]\n");
    return 2;
  }
  raise_fd_limit();
  Expected want;
  want.count = o.requests;
  want.users = o.requests < o.users ? o.requests : o.users;
  for (long i = 0; i < o.requests; ++i) want.sum += static_cast<double>(value_of(i));

  Driver driver(o);
  auto start = std::chrono::steady_clock::now();
  bool finished = driver.run();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double rps = static_cast<double>(driver.done()) / seconds;

  std::string stats = fetch_stats(o);
  double got_count = json_number(stats, "totalRequests");
  double got_users = json_number(stats, "uniqueUsers");
  double got_sum = json_number(stats, "sum");
  bool exact = finished && driver.errors() == 0 && got_count == static_cast<double>(want.count) &&
               got_users == static_cast<double>(want.users) && got_sum == want.sum;

  std::printf("1MRC: %ld responses in %.3f s = %.0f req/s, %ld errors, %d connections\n",
              driver.done(), seconds, rps, driver.errors(), o.connections);
  std::printf("expected: totalRequests=%ld uniqueUsers=%ld sum=%.0f\n", want.count, want.users,
              want.sum);
  std::printf("got:      %s\n", stats.empty() ? "(no answer from GET /stats)" : stats.c_str());
  std::printf("%s\n", exact ? "EXACT" : "MISMATCH");
  std::printf(
      "{\"requests\":%ld,\"responses\":%ld,\"seconds\":%.6f,\"rps\":%.1f,\"errors\":%ld,"
      "\"connections\":%d,\"exact\":%s,\"expected\":{\"totalRequests\":%ld,\"uniqueUsers\":%ld,"
      "\"sum\":%.0f}}\n",
      o.requests, driver.done(), seconds, rps, driver.errors(), o.connections,
      exact ? "true" : "false", want.count, want.users, want.sum);
  return exact ? 0 : 1;
}
