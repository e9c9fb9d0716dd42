// The event loop and the HTTP server on both backends (epoll and io_uring), with real sockets:
// readiness watchers, timers, wake-ups for embedders, and the HTTP paths the ring changes
// (accept, recv into provided buffers, captured sends): keep-alive, pipelining, large bodies
// both ways, slow readers, clients that go away, deferred answers, graceful shutdown.
// The whole C++ suite also runs with FASTERAPI_LOOP=uring (scripts/test.sh).
#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/event_loop.h"
#include "core/uring_ring.h"
#include "http/server.h"
#include "http/connection.h"
#include "http/test_client.h"

namespace fa {
namespace {

using namespace std::chrono_literals;
using fa::testing::connect_to;
using fa::testing::read_response;
using fa::testing::send_all;
using fa::testing::wait_closed;

class Backend : public ::testing::TestWithParam<LoopBackend> {};

std::string name(const ::testing::TestParamInfo<LoopBackend>& p) {
  return loop_backend_name(p.param);
}

struct Recorder : IoHandler {
  std::vector<uint32_t> events;
  void on_io(uint32_t ev) override { events.push_back(ev); }
};

// The machine running the tests has io_uring: asking for it must not silently give epoll.
TEST_P(Backend, RunsOnTheBackendAskedFor) {
  EventLoop loop(GetParam());
  EXPECT_EQ(loop.backend(), GetParam());
  EXPECT_EQ(loop.uring() != nullptr, GetParam() == LoopBackend::kUring);
}

TEST_P(Backend, ReadinessIsLevelTriggeredAndRemovable) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  EventLoop loop(GetParam());
  Recorder rec;
  ASSERT_TRUE(loop.add(sv[0], EPOLLIN, &rec));
  EXPECT_FALSE(loop.add(sv[0], EPOLLIN, &rec));  // EEXIST, as epoll
  loop.run_once(0);
  EXPECT_TRUE(rec.events.empty());
  ASSERT_EQ(write(sv[1], "xy", 2), 2);
  loop.run_once(1000);
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_TRUE(rec.events[0] & EPOLLIN);
  // Not read: level-triggered, so it is reported again.
  loop.run_once(1000);
  EXPECT_EQ(rec.events.size(), 2u);
  // Switch to writability, then remove: no more events.
  ASSERT_TRUE(loop.modify(sv[0], EPOLLOUT, &rec));
  loop.run_once(1000);
  ASSERT_EQ(rec.events.size(), 3u);
  EXPECT_TRUE(rec.events[2] & EPOLLOUT);
  EXPECT_FALSE(rec.events[2] & EPOLLIN);
  loop.remove(sv[0]);
  size_t seen = rec.events.size();
  ASSERT_EQ(write(sv[1], "z", 1), 1);
  loop.run_once(20);
  loop.run_once(0);
  EXPECT_EQ(rec.events.size(), seen);
  close(sv[0]);
  close(sv[1]);
}

TEST_P(Backend, RegularFileIsRefusedAsByEpoll) {
  EventLoop loop(GetParam());
  Recorder rec;
  FILE* f = tmpfile();
  ASSERT_NE(f, nullptr);
  errno = 0;
  EXPECT_FALSE(loop.add(fileno(f), EPOLLIN, &rec));
  EXPECT_EQ(errno, EPERM);
  fclose(f);
}

TEST_P(Backend, PeerHangupIsReported) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  EventLoop loop(GetParam());
  Recorder rec;
  ASSERT_TRUE(loop.add(sv[0], EPOLLRDHUP, &rec));
  close(sv[1]);
  loop.run_once(1000);
  ASSERT_FALSE(rec.events.empty());
  EXPECT_TRUE(rec.events[0] & (EPOLLRDHUP | EPOLLHUP));
  loop.remove(sv[0]);
  close(sv[0]);
}

TEST_P(Backend, TimersAndDeferredRun) {
  EventLoop loop(GetParam());
  std::vector<int> order;
  loop.call_later(20ms, [&] { order.push_back(2); });
  loop.call_later(5ms, [&] { order.push_back(1); });
  TimerId gone = loop.call_later(10ms, [&] { order.push_back(99); });
  EXPECT_TRUE(loop.cancel(gone));
  loop.call_later(30ms, [&] {
    order.push_back(3);
    loop.defer([&] {
      order.push_back(4);
      loop.stop();
    });
  });
  auto t0 = Clock::now();
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_GE(Clock::now() - t0, 30ms);
}

// An embedder (asyncio) waits on fd(): work deferred from outside an iteration must make it
// readable, and an iteration must clear it again.
TEST_P(Backend, DeferFromOutsideMakesFdReadable) {
  EventLoop loop(GetParam());
  loop.run_once(0);
  pollfd p{loop.fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);
  bool ran = false;
  loop.defer([&] { ran = true; });
  p.revents = 0;
  EXPECT_EQ(poll(&p, 1, 1000), 1);
  loop.run_once(0);
  EXPECT_TRUE(ran);
  loop.run_once(0);
  p.revents = 0;
  EXPECT_EQ(poll(&p, 1, 0), 0);
}

// UringRing::post: a user-space completion for the next dispatch (the deferred flush of a
// connection on the ring), with no allocation; posting from outside the loop's run makes fd()
// readable as defer() does, and the loop's teardown still delivers one left pending.
struct PostTarget : UringCompletion {
  std::vector<Op> got;
  void on_uring(Op op, int res, bool more, const char* data) override {
    EXPECT_EQ(res, 0);
    EXPECT_FALSE(more);
    EXPECT_EQ(data, nullptr);
    got.push_back(op);
  }
};

TEST(UringPost, DeliveredNextDispatchWakesEmbedderAndAtTeardown) {
  PostTarget target;
  {
    EventLoop loop(LoopBackend::kUring);
    ASSERT_NE(loop.uring(), nullptr);
    loop.run_once(0);
    pollfd p{loop.fd(), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 0), 0);
    loop.uring()->post(&target);
    EXPECT_TRUE(loop.has_pending_work());
    EXPECT_EQ(poll(&p, 1, 1000), 1);  // an embedder waiting on fd() is woken
    loop.run_once(0);
    EXPECT_EQ(target.got, std::vector<UringCompletion::Op>{UringCompletion::kPosted});
    EXPECT_FALSE(loop.has_pending_work());
    // Posted during a deferred task: run_once(-1) must not block, the post is due.
    loop.defer([&] { loop.uring()->post(&target); });
    loop.run_once(0);
    loop.run_once(-1);
    EXPECT_EQ(target.got.size(), 2u);
    loop.uring()->post(&target);  // left pending: the teardown delivers it
  }
  EXPECT_EQ(target.got.size(), 3u);
}

// --- HTTP server on each backend ---

// The HTTP fixture of the server tests, on the backend under test.
using ServerOn = fa::testing::ServerThread;

void routes(http::Server& s) {
  using http::Request;
  using http::Response;
  s.route("GET", "/", [](Request&, Response& res) { res.json(R"({"message":"Hello, World!"})"); });
  s.route("GET", "/users/{id:int}", [](Request& req, Response& res) {
    res.json(std::string(R"({"id":)") + std::string(req.param("id")) + "}");
  });
  s.route("POST", "/echo", [](Request& req, Response& res) {
    res.send(200, "application/octet-stream", req.body);
  });
  s.route("GET", "/big", [](Request& req, Response& res) {
    std::string body(8 * 1024 * 1024, 'b');
    for (size_t i = 0; i < body.size(); i += 1000) body[i] = static_cast<char>('a' + (i / 1000) % 26);
    res.send(200, "application/octet-stream", body);
  });
  s.route("GET", "/peer", [](Request& req, Response& res) { res.send(200, "text/plain", req.peer.host); });
}

size_t open_fds() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (readdir(d)) ++n;
  closedir(d);
  return n;
}

TEST_P(Backend, KeepAliveAndPeerAddress) {
  ServerOn st(GetParam(), routes);
  EXPECT_EQ(st.loop().backend(), GetParam());
  int fd = connect_to(st.port());
  std::string pending;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = read_response(fd, pending);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.body, R"({"message":"Hello, World!"})");
  }
  ASSERT_TRUE(send_all(fd, "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(read_response(fd, pending).body, "127.0.0.1");
  close(fd);
}

TEST_P(Backend, PipelinedBurstsAnsweredInOrder) {
  ServerOn st(GetParam(), routes);
  int fd = connect_to(st.port());
  std::string pending;
  for (int round = 0; round < 20; ++round) {
    std::string batch;
    for (int i = 1; i <= 64; ++i)
      batch += "GET /users/" + std::to_string(round * 100 + i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(send_all(fd, batch));
    for (int i = 1; i <= 64; ++i) {
      auto r = read_response(fd, pending);
      ASSERT_TRUE(r.ok);
      ASSERT_EQ(r.body, "{\"id\":" + std::to_string(round * 100 + i) + "}");
    }
  }
  close(fd);
}

TEST_P(Backend, LargeBodyEchoedBothWays) {
  ServerOn st(GetParam(), routes);
  int fd = connect_to(st.port());
  std::string body(6 * 1024 * 1024 + 123, 'x');
  for (size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + (i / 4096) % 26);
  std::thread writer([&] {
    send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n");
    send_all(fd, body);
  });
  std::string pending;
  auto r = read_response(fd, pending);
  writer.join();
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.body == body);
  close(fd);
}

TEST_P(Backend, LargeResponseToSlowReader) {
  ServerOn st(GetParam(), routes);
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(100ms);  // the server fills the socket and waits for us
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.body.size(), 8u * 1024 * 1024);
  for (size_t i = 0; i < r.body.size(); i += 1000)
    ASSERT_EQ(r.body[i], static_cast<char>('a' + (i / 1000) % 26));
  EXPECT_EQ(read_response(fd, pending).status, 200);  // the pipelined one after it
  close(fd);
}

TEST_P(Backend, ClientsGoneMidRequestAndMidResponse) {
  ServerOn st(GetParam(), routes);
  for (int i = 0; i < 20; ++i) {
    int fd = connect_to(st.port());
    send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    close(fd);
    fd = connect_to(st.port());
    send_all(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    close(fd);  // unread response: the server's send fails with a reset
  }
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string pending;
  EXPECT_EQ(read_response(fd, pending).status, 200);
  close(fd);
  for (int i = 0; i < 400 && st.server().connections() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(st.server().connections(), 0u);
}

TEST_P(Backend, ManySequentialConnectionsLeakNoFds) {
  size_t before = 0;
  {
    ServerOn st(GetParam(), routes);
    before = open_fds();
    for (int i = 0; i < 2000; ++i) {
      int fd = connect_to(st.port());
      ASSERT_GE(fd, 0);
      ASSERT_TRUE(send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      std::string pending;
      ASSERT_EQ(read_response(fd, pending).status, 200);
      close(fd);
    }
    for (int i = 0; i < 400 && st.server().connections() > 0; ++i) std::this_thread::sleep_for(5ms);
    EXPECT_EQ(st.server().connections(), 0u);
    EXPECT_LE(open_fds(), before + 2);
  }
}

TEST_P(Backend, DeferredAnswerHoldsPipelinedRequestThenClientGone) {
  std::vector<http::ResponseHandle> parked;
  ServerOn st(GetParam(), [&](http::Server& s) {
    routes(s);
    s.route("GET", "/later", [&](http::Request&, http::Response& res) { parked.push_back(res.detach()); });
  });
  int fd = connect_to(st.port());
  send_all(fd, "GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 1u);
    EXPECT_TRUE(parked[0].send({202, "text/plain", {}}, "later"));
  });
  std::string pending;
  auto first = read_response(fd, pending);
  EXPECT_EQ(first.body, "later");
  EXPECT_EQ(read_response(fd, pending).status, 200);
  // A client that leaves while its answer is pending: the answer goes nowhere and the
  // connection goes away.
  send_all(fd, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  close(fd);
  std::this_thread::sleep_for(50ms);
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 2u);
    parked[1].send({200, "text/plain", {}}, "nobody");
  });
  for (int i = 0; i < 400 && st.server().connections() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(st.server().connections(), 0u);
}

TEST_P(Backend, GracefulShutdown) {
  std::vector<http::ResponseHandle> parked;
  ServerOn st(GetParam(), [&](http::Server& s) {
    routes(s);
    s.route("GET", "/later", [&](http::Request&, http::Response& res) { parked.push_back(res.detach()); });
  });
  int idle = connect_to(st.port());
  int busy = connect_to(st.port());
  send_all(busy, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  st.run_on_loop([&] { st.server().shutdown(std::chrono::seconds(5)); });
  EXPECT_TRUE(wait_closed(idle));
  EXPECT_LT(connect_to(st.port()), 0);  // no longer accepting
  st.run_on_loop([&] { parked.at(0).send({200, "text/plain", {}}, "done"); });
  std::string pending;
  auto r = read_response(busy, pending);
  EXPECT_EQ(r.body, "done");
  EXPECT_EQ(r.header("connection"), "close");
  close(idle);
  close(busy);
}

// A client that closes while a stream is being written: the write after its FIN draws a
// reset, and the connection is closed right then (epoll reports EPOLLERR|EPOLLHUP even when
// not reading), not left open until a later write fails. An SSE or MCP GET stream relies on it
// to know its reader is gone before the client comes back.
TEST_P(Backend, StreamToClosedClientClosesAfterTheReset) {
  std::vector<http::ResponseHandle> parked;
  ServerOn st(GetParam(), [&](http::Server& s) {
    s.route("GET", "/stream", [&](http::Request&, http::Response& res) {
      auto h = res.detach();
      h.start({200, "text/event-stream", {}});
      h.write("data: first\n\n");
      parked.push_back(h);
    });
  });
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  char buf[4096];
  std::string got;
  while (got.find("first") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  std::this_thread::sleep_for(50ms);  // the server sees the FIN
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 1u);
    EXPECT_TRUE(parked[0].client_gone());
    parked[0].write("data: second\n\n");  // to a closed socket: the peer answers with a reset
  });
  for (int i = 0; i < 100 && st.server().connections() > 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(st.server().connections(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Loop, Backend, ::testing::Values(LoopBackend::kEpoll, LoopBackend::kUring),
                         name);

}  // namespace
}  // namespace fa
