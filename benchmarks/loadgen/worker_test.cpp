// Worker against a real socket server (a thread per connection in this test): a fixed request
// budget is answered exactly, responses written in small pieces and in both framings are
// counted, non-2xx counted as such, and a server that closes after each response costs the
// pipelined requests behind it (lost), never an error.
#include "worker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "request_source.h"

namespace fa::loadgen {
namespace {

class TinyServer {
 public:
  explicit TinyServer(bool close_each) : close_each_(close_each) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    std::memcpy(&target.addr, &a, sizeof a);
    target.len = sizeof a;
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~TinyServer() {
    ::shutdown(fd_, SHUT_RDWR);
    accept_thread_.join();
    ::close(fd_);
    for (auto& t : conns_) t.join();
  }
  Target target;
  std::atomic<int> not_found{0};
  std::atomic<int> answered{0};

 private:
  void accept_loop() {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      int one = 1;  // the 7-byte pieces would otherwise wait on Nagle and delayed ACKs
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conns_.emplace_back([this, c] { serve(c); });
    }
  }
  // Answers each request head (GET, no body): alternately Content-Length and chunked, every
  // fourth a 404, each response written in pieces of 7 bytes.
  void serve(int c) {
    std::string in;
    char buf[4096];
    int n = 0;
    for (;;) {
      size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        ssize_t r = ::recv(c, buf, sizeof buf, 0);
        if (r <= 0) return (void)::close(c);
        in.append(buf, static_cast<size_t>(r));
      }
      in.erase(0, end + 4);
      bool missing = ++n % 4 == 0;
      if (missing) ++not_found;
      std::string status = missing ? "404 Not Found" : "200 OK";
      std::string conn = close_each_ ? "Connection: close\r\n" : "";
      std::string res = n % 2 ? "HTTP/1.1 " + status + "\r\n" + conn +
                                    "Content-Length: 13\r\n\r\nHello, World!"
                              : "HTTP/1.1 " + status + "\r\n" + conn +
                                    "Transfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n8\r\n, World!\r\n0\r\n\r\n";
      // Counted before the last byte leaves: the client may finish its run and read the count
      // as soon as that byte arrives, before this thread would get past the send loop.
      ++answered;
      for (size_t at = 0; at < res.size(); at += 7) {
        std::string_view piece = std::string_view(res).substr(at, 7);
        if (::send(c, piece.data(), piece.size(), MSG_NOSIGNAL) < 0) return (void)::close(c);
      }
      if (close_each_) return (void)::close(c);
    }
  }
  bool close_each_;
  int fd_;
  std::thread accept_thread_;
  std::vector<std::thread> conns_;
};

TEST(LoadgenWorker, FixedBudgetIsAnsweredExactly) {
  TinyServer server(false);
  Options o;
  o.requests = 3000;
  o.connections = 5;
  o.pipeline = 3;
  o.paths = {"/a", "/b"};
  FixedSource source(o);
  Worker w(o, server.target, o.connections, source);
  w.run();
  const Stats& s = w.stats();
  EXPECT_EQ(s.responses, 3000u);
  EXPECT_EQ(server.answered.load(), 3000);
  EXPECT_EQ(s.non2xx, static_cast<uint64_t>(server.not_found.load()));
  EXPECT_GT(s.non2xx, 0u);
  EXPECT_EQ(s.socket_errors(), 0u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.latency.count(), 3000u);
}

TEST(LoadgenWorker, ConnectionCloseLosesOnlyWhatWasPipelinedBehindIt) {
  TinyServer server(true);
  Options o;
  o.requests = 200;
  o.connections = 4;
  o.pipeline = 2;
  FixedSource source(o);
  Worker w(o, server.target, o.connections, source);
  w.run();
  const Stats& s = w.stats();
  EXPECT_EQ(s.socket_errors(), 0u);
  EXPECT_EQ(s.responses, 100u);  // one answer per connection of two requests
  EXPECT_EQ(s.lost, 100u);
}

TEST(LoadgenWorker, RefusedConnectionsAreCountedAndTheRunEnds) {
  Options o;
  o.connections = 2;
  o.duration = std::chrono::milliseconds(200);
  Target t;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(1);  // nothing listens on port 1 here
  std::memcpy(&t.addr, &a, sizeof a);
  t.len = sizeof a;
  FixedSource source(o);
  Worker w(o, t, o.connections, source);
  w.run();
  EXPECT_EQ(w.stats().responses, 0u);
  EXPECT_GT(w.stats().connect_errors, 0u);
}

}  // namespace
}  // namespace fa::loadgen
