// Server tests over real sockets on an ephemeral port.
#include "http/server.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <time.h>

#include <atomic>
#include <chrono>

#include "http/connection.h"
#include "test_client.h"

namespace fa::http {
namespace {

using fa::testing::connect_to;
using fa::testing::read_response;
using fa::testing::send_all;
using fa::testing::ServerThread;
using fa::testing::wait_closed;
using namespace std::chrono_literals;

void hello_routes(Server& s) {
  s.route("GET", "/", [](Request&, Response& res) { res.json(R"({"message":"Hello, World!"})"); });
  s.route("GET", "/users/{id:int}", [](Request& req, Response& res) {
    res.json(std::string(R"({"id":)") + std::string(req.param("id")) + "}");
  });
  s.route("POST", "/echo", [](Request& req, Response& res) {
    res.send(200, req.header("content-type"), req.body);
  });
  s.route("GET", "/stream", [](Request&, Response& res) {
    res.start({200, "text/plain", {}});
    for (int i = 0; i < 3; ++i) res.write("part" + std::to_string(i) + ";");
    res.end();
  });
  s.route("GET", "/throw", [](Request&, Response&) { throw std::runtime_error("boom"); });
}

size_t open_fds() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (readdir(d)) ++n;
  closedir(d);
  return n;
}

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  std::string pending;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = read_response(fd, pending);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"message":"Hello, World!"})");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_FALSE(r.header("date").empty());
  }
  close(fd);
}

TEST(Server, PipelinedRequestsAnsweredInOrder) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  std::string batch;
  for (int i = 1; i <= 16; ++i) batch += "GET /users/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(send_all(fd, batch));
  std::string pending;
  for (int i = 1; i <= 16; ++i) {
    auto r = read_response(fd, pending);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.body, "{\"id\":" + std::to_string(i) + "}");
  }
  close(fd);
}

TEST(Server, ChunkedUploadIsDechunked) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd,
                       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/x\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"));
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.header("content-type"), "text/x");
  close(fd);
}

TEST(Server, SlowWriterByteByByte) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Length: 4\r\n\r\nping";
  for (char c : req) {
    ASSERT_TRUE(send_all(fd, std::string_view(&c, 1)));
    std::this_thread::sleep_for(1ms);
  }
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body, "ping");
  close(fd);
}

TEST(Server, LargeBodyEchoed) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  std::string body(10 * 1024 * 1024, 'x');
  for (size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + (i / 4096) % 26);
  std::thread writer([&] {
    send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n");
    send_all(fd, body);
  });
  std::string pending;
  auto r = read_response(fd, pending);
  writer.join();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body.size(), body.size());
  EXPECT_TRUE(r.body == body);
  close(fd);
}

TEST(Server, ClientClosingMidRequestDoesNotHurtServer) {
  ServerThread st(hello_routes);
  for (int i = 0; i < 20; ++i) {
    int fd = connect_to(st.port());
    send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    close(fd);
  }
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string pending;
  EXPECT_EQ(read_response(fd, pending).status, 200);
  close(fd);
  for (int i = 0; i < 200 && st.server().connections() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(st.server().connections(), 0u);
}

TEST(Server, TenThousandSequentialConnectionsLeakNoFds) {
  ServerThread st(hello_routes);
  size_t before = open_fds();
  for (int i = 0; i < 10000; ++i) {
    int fd = connect_to(st.port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    std::string pending;
    auto r = read_response(fd, pending);
    ASSERT_EQ(r.status, 200) << "connection " << i;
    EXPECT_EQ(r.header("connection"), "close");
    close(fd);
  }
  for (int i = 0; i < 400 && st.server().connections() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(st.server().connections(), 0u);
  EXPECT_LE(open_fds(), before + 2);
}

TEST(Server, NotFoundAndMethodNotAllowed) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  std::string pending;
  send_all(fd, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = read_response(fd, pending);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"detail":"Not Found"})");
  send_all(fd, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
  r = read_response(fd, pending);
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.header("allow").find("GET"), std::string::npos);
  close(fd);
}

TEST(Server, HeadUsesGetHandlerWithoutBody) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  std::string pending;
  send_all(fd, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = read_response(fd, pending, /*head_request=*/true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "27");
  auto g = read_response(fd, pending);  // the HEAD response must not have leaked a body
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.body, R"({"message":"Hello, World!"})");
  close(fd);
}

TEST(Server, MalformedRequestGets400AndClose) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string pending;
  auto r = read_response(fd, pending);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(wait_closed(fd));
  close(fd);
  int fd2 = connect_to(st.port());  // still serving
  send_all(fd2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(read_response(fd2, pending).status, 200);
  close(fd2);
}

TEST(Server, BodyOverLimitGets413) {
  ServerConfig cfg;
  cfg.limits.max_body_bytes = 1000;
  ServerThread st(hello_routes, cfg);
  int fd = connect_to(st.port());
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  std::string pending;
  EXPECT_EQ(read_response(fd, pending).status, 413);
  close(fd);
}

TEST(Server, StreamingResponseIsChunked) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  send_all(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_EQ(r.body, "part0;part1;part2;");
  close(fd);
}

TEST(Server, StreamWithHandlerContentLengthIsNotChunkedAndHasOneLength) {
  ServerThread st([](Server& s) {
    s.route("GET", "/sized", [](Request&, Response& res) {
      res.start({200, "text/plain", "Content-Length: 6\r\n"});
      res.write("abc");
      res.write("def");
      res.end();
    });
  });
  int fd = connect_to(st.port());
  send_all(fd, "GET /sized HTTP/1.1\r\nHost: x\r\n\r\nGET /sized HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string pending;
  auto r = read_response(fd, pending);
  EXPECT_EQ(r.body, "abcdef");
  EXPECT_EQ(r.header("transfer-encoding"), "");
  size_t first = r.head.find("Content-Length");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(r.head.find("Content-Length", first + 1), std::string::npos);
  EXPECT_EQ(read_response(fd, pending).body, "abcdef");  // framing held for the next one
  close(fd);
}

TEST(Server, Http10GetsCloseDelimitedStreamAndConnectionClose) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  send_all(fd, "GET /stream HTTP/1.0\r\n\r\n");
  std::string pending;
  auto r = read_response(fd, pending);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "part0;part1;part2;");
  close(fd);
}

TEST(Server, ExpectContinueGetsInterimResponse) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  char buf[64] = {};
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
  ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(fd, "ok");
  std::string pending;
  auto r = read_response(fd, pending);
  EXPECT_EQ(r.body, "ok");
  close(fd);
}

TEST(Server, HandlerExceptionGives500AndKeepsServing) {
  ServerThread st(hello_routes);
  int fd = connect_to(st.port());
  std::string pending;
  send_all(fd, "GET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(read_response(fd, pending).status, 500);
  EXPECT_EQ(read_response(fd, pending).status, 200);
  close(fd);
}

TEST(Server, DeferredResponseHoldsPipelinedRequestsInOrder) {
  std::vector<ResponseHandle> parked;
  ServerThread st([&](Server& s) {
    hello_routes(s);
    s.route("GET", "/later", [&](Request&, Response& res) { parked.push_back(res.detach()); });
  });
  int fd = connect_to(st.port());
  send_all(fd, "GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  bool finished = false;
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 1u);
    EXPECT_EQ(st.server().in_flight(), 1u);
    finished = parked[0].send({202, "text/plain", {}}, "later");
    EXPECT_FALSE(parked[0].alive());
  });
  EXPECT_TRUE(finished);
  std::string pending;
  auto first = read_response(fd, pending);
  EXPECT_EQ(first.status, 202);
  EXPECT_EQ(first.body, "later");
  EXPECT_EQ(read_response(fd, pending).status, 200);
  close(fd);
}

TEST(Server, GracefulShutdownFinishesInFlightAndClosesIdle) {
  std::vector<ResponseHandle> parked;
  ServerThread st([&](Server& s) {
    hello_routes(s);
    s.route("GET", "/later", [&](Request&, Response& res) { parked.push_back(res.detach()); });
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

TEST(Server, IdleKeepAliveConnectionTimesOut) {
  ServerConfig cfg;
  cfg.keep_alive_timeout = std::chrono::milliseconds(100);
  ServerThread st(hello_routes, cfg);
  int fd = connect_to(st.port());
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string pending;
  EXPECT_EQ(read_response(fd, pending).status, 200);
  EXPECT_TRUE(wait_closed(fd));  // the 1 s sweep closes it
  close(fd);
}

TEST(Server, SlowlorisHeadGets408) {
  ServerConfig cfg;
  cfg.header_timeout = std::chrono::milliseconds(100);
  ServerThread st(hello_routes, cfg);
  int fd = connect_to(st.port());
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n");
  std::string pending;
  EXPECT_EQ(read_response(fd, pending).status, 408);
  close(fd);
}

TEST(Server, FallbackHandlerAnswersUnroutedRequests) {
  ServerThread st([](Server& s) {
    hello_routes(s);
    s.set_fallback([](Request& req, Response& res) {
      std::string body = req.route.status == RouteStatus::kMethodNotAllowed
                             ? "405 allow=" + std::string(req.route.allow)
                             : "404 " + std::string(req.path());
      res.send(418, "text/plain", body);
    });
  });
  int fd = connect_to(st.port());
  send_all(fd, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\nDELETE / HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string pending;
  auto nf = read_response(fd, pending);
  EXPECT_EQ(nf.status, 418);
  EXPECT_EQ(nf.body, "404 /nope");
  auto na = read_response(fd, pending);
  EXPECT_EQ(na.status, 418);
  EXPECT_EQ(na.body.substr(0, 14), "405 allow=GET,");
  EXPECT_EQ(read_response(fd, pending).status, 200);  // routed requests are untouched
  close(fd);
}

// Finishing a deferred exchange from outside the loop iteration (as a Python Task does) must
// not dispatch the next pipelined request inside that call: it runs on the next iteration.
TEST(Server, PipelinedRequestAfterDeferredResponseIsDispatchedLater) {
  std::vector<ResponseHandle> parked;
  int hello_calls = 0;
  ServerThread st([&](Server& s) {
    s.route("GET", "/", [&](Request&, Response& res) {
      ++hello_calls;
      res.json("{}");
    });
    s.route("GET", "/later", [&](Request&, Response& res) { parked.push_back(res.detach()); });
  });
  int fd = connect_to(st.port());
  send_all(fd, "GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  int calls_inside_send = -1;
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 1u);
    parked[0].send({200, "text/plain", {}}, "later");
    calls_inside_send = hello_calls;
  });
  EXPECT_EQ(calls_inside_send, 0);
  std::string pending;
  EXPECT_EQ(read_response(fd, pending).body, "later");
  EXPECT_EQ(read_response(fd, pending).status, 200);  // dispatched by the next iteration
  close(fd);
}

// CPU time the loop thread spends over `span` (sampled on the loop thread).
std::chrono::nanoseconds loop_cpu_over(ServerThread& st, std::chrono::milliseconds span) {
  auto sample = [&] {
    timespec ts{};
    st.run_on_loop([&] { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); });
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  };
  auto before = sample();
  std::this_thread::sleep_for(span);
  return sample() - before;
}

// Reading pauses lazily while a deferred handler runs (EPOLLIN stays armed until input comes):
// a request pipelined later waits in the socket without waking the loop on every iteration,
// and is answered in order once the first response is sent.
TEST(Server, InputWhileDeferredWaitsWithoutSpinning) {
  std::vector<ResponseHandle> parked;
  ServerThread st([&](Server& s) {
    hello_routes(s);
    s.route("GET", "/later", [&](Request&, Response& res) { parked.push_back(res.detach()); });
  });
  int fd = connect_to(st.port());
  send_all(fd, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);  // dispatched and paused before the next request comes
  send_all(fd, "GET /users/7 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  EXPECT_LT(loop_cpu_over(st, 300ms), 50ms);  // a readable socket left armed would spin
  bool gone = true;
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 1u);
    EXPECT_EQ(st.server().in_flight(), 1u);  // the second request is not dispatched yet
    gone = parked[0].client_gone();
    parked[0].send({200, "text/plain", {}}, "later");
  });
  EXPECT_FALSE(gone);
  std::string pending;
  auto first = read_response(fd, pending);
  EXPECT_EQ(first.body, "later");
  EXPECT_EQ(first.header("connection"), "");  // still keep-alive
  auto second = read_response(fd, pending);
  EXPECT_EQ(second.body, R"({"id":7})");
  close(fd);
}

// The client's FIN while a deferred handler runs (its EOF readable, EPOLLIN still armed by the
// lazy pause): the handler sees client_gone, the loop does not spin on the EOF, and the answer
// is still written, with Connection: close, before the server closes.
TEST(Server, HalfCloseWhileDeferredIsClientGoneAndAnswered) {
  std::vector<ResponseHandle> parked;
  ServerThread st([&](Server& s) {
    s.route("GET", "/later", [&](Request&, Response& res) { parked.push_back(res.detach()); });
  });
  int fd = connect_to(st.port());
  send_all(fd, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  ::shutdown(fd, SHUT_WR);
  std::this_thread::sleep_for(50ms);
  EXPECT_LT(loop_cpu_over(st, 300ms), 50ms);
  bool gone = false;
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 1u);
    gone = parked[0].client_gone();
    parked[0].send({200, "text/plain", {}}, "answer");
  });
  EXPECT_TRUE(gone);
  std::string pending;
  auto r = read_response(fd, pending);
  EXPECT_EQ(r.body, "answer");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(wait_closed(fd));
  close(fd);
}

// on_hangup: the client's FIN while a deferred exchange is open is told at once (no polling of
// client_gone), also to a callback registered after it; the exchange stays open and its answer
// is still written. An exchange answered before the close never hears of it.
TEST(Server, HangupCallbackRunsWhenTheClientHalfClosesWhileDeferred) {
  std::vector<ResponseHandle> parked;
  std::atomic<int> early{0}, late{0}, answered{0};
  ServerThread st([&](Server& s) {
    s.route("GET", "/later", [&](Request&, Response& res) {
      parked.push_back(res.detach());
      EXPECT_TRUE(parked.back().on_hangup([&] { ++early; }));
    });
    s.route("GET", "/now", [&](Request&, Response& res) {
      EXPECT_TRUE(res.detach().on_hangup([&] { ++answered; }));
      res.send({200, "text/plain", {}}, "now");
    });
  });
  int fd = connect_to(st.port());
  send_all(fd, "GET /now HTTP/1.1\r\nHost: x\r\n\r\nGET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string pending;
  EXPECT_EQ(read_response(fd, pending).body, "now");
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(early.load(), 0);  // still connected
  ::shutdown(fd, SHUT_WR);
  for (int i = 0; i < 500 && early.load() == 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(early.load(), 1);
  bool registered = false;
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 1u);
    registered = parked[0].on_hangup([&] { ++late; });  // the peer has already closed
  });
  EXPECT_TRUE(registered);
  for (int i = 0; i < 500 && late.load() == 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(late.load(), 1);
  st.run_on_loop([&] { parked[0].send({200, "text/plain", {}}, "answer"); });
  auto r = read_response(fd, pending);
  EXPECT_EQ(r.body, "answer");
  EXPECT_TRUE(wait_closed(fd));
  close(fd);
  EXPECT_EQ(early.load(), 1);
  EXPECT_EQ(answered.load(), 0);
  st.run_on_loop([&] { EXPECT_FALSE(parked[0].on_hangup([] {})); });  // the exchange is over
}

// A connection reset (not a FIN) while a deferred exchange is open closes the connection: the
// hang-up callback runs then too, before the exchange's done-callback.
TEST(Server, HangupCallbackRunsWhenTheConnectionIsResetWhileDeferred) {
  std::vector<ResponseHandle> parked;
  std::atomic<int> hangups{0}, dones{0};
  std::atomic<bool> hangup_first{false};
  ServerThread st([&](Server& s) {
    s.route("GET", "/later", [&](Request&, Response& res) {
      parked.push_back(res.detach());
      EXPECT_TRUE(parked.back().on_hangup([&] {
        hangup_first = dones.load() == 0;
        ++hangups;
      }));
      EXPECT_TRUE(parked.back().on_done([&] { ++dones; }));
    });
  });
  int fd = connect_to(st.port());
  send_all(fd, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 500; ++i) {
    bool seen = false;
    st.run_on_loop([&] { seen = !parked.empty(); });
    if (seen) break;
    std::this_thread::sleep_for(1ms);
  }
  linger lg{1, 0};  // close() sends RST
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
  for (int i = 0; i < 1000 && (hangups.load() == 0 || dones.load() == 0); ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(hangups.load(), 1);
  EXPECT_EQ(dones.load(), 1);
  EXPECT_TRUE(hangup_first.load());
}

// Reads `total` bytes of body slowly; returns how many arrived before EOF.
size_t read_slowly(int fd, size_t chunk, std::chrono::milliseconds pause) {
  size_t got = 0;
  std::vector<char> buf(chunk);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
    std::this_thread::sleep_for(pause);
  }
  return got;
}

void small_receive_buffer(int fd) {
  int rcv = 64 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
}

// A large response read more slowly than the keep-alive timeout must arrive whole: idle time
// starts when the output is flushed, not when it is queued.
TEST(Server, LargeResponseToSlowReaderIsNotCutByKeepAliveTimeout) {
  const std::string big(32u << 20, 'x');
  ServerConfig cfg;
  cfg.keep_alive_timeout = std::chrono::milliseconds(100);
  ServerThread st([&](Server& s) {
    s.route("GET", "/big", [&](Request&, Response& res) { res.send(200, "text/plain", big); });
  }, cfg);
  int fd = connect_to(st.port());
  small_receive_buffer(fd);
  send_all(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  // ~64 KiB per 8 ms ≈ 8 MB/s: 32 MB take ~4 s, many keep-alive timeouts and sweeps.
  size_t got = read_slowly(fd, 64 * 1024, 8ms);
  std::string_view expect_head_end = "\r\n\r\n";
  EXPECT_GE(got, big.size() + expect_head_end.size());
  EXPECT_LT(got, big.size() + 512);  // the head and nothing else: then closed when idle
  close(fd);
}

// A peer that stops reading is closed after send_timeout without progress, also when the
// response is the last on the connection (Connection: close) — no slow-read DoS.
TEST(Server, PeerThatStopsReadingIsClosedBySendTimeout) {
  const std::string big(32u << 20, 'x');
  ServerConfig cfg;
  cfg.send_timeout = std::chrono::milliseconds(500);
  ServerThread st([&](Server& s) {
    s.route("GET", "/big", [&](Request&, Response& res) { res.send(200, "text/plain", big); });
  }, cfg);
  int fd = connect_to(st.port());
  small_receive_buffer(fd);
  send_all(fd, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::this_thread::sleep_for(2500ms);  // the 1 s sweep sees no progress for > 500 ms
  size_t conns = 99;
  st.run_on_loop([&] { conns = st.server().connections(); });
  EXPECT_EQ(conns, 0u);
  EXPECT_LT(read_slowly(fd, 1 << 20, 0ms), big.size());  // cut: the server gave up on us
  close(fd);
}

// A stream to a reader that stopped: the producer sees the connection go away.
TEST(Server, StreamToStoppedReaderIsClosedBySendTimeout) {
  ServerConfig cfg;
  cfg.send_timeout = std::chrono::milliseconds(500);
  std::vector<ResponseHandle> parked;
  ServerThread st([&](Server& s) {
    s.route("GET", "/stream", [&](Request&, Response& res) {
      res.start({200, "text/plain", {}});
      parked.push_back(res.detach());
    });
  }, cfg);
  int fd = connect_to(st.port());
  small_receive_buffer(fd);
  send_all(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  const std::string chunk(1 << 20, 'y');
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 1u);
    for (int i = 0; i < 16 && parked[0].write(chunk); ++i) {
    }
  });
  std::this_thread::sleep_for(2500ms);
  bool alive = true;
  st.run_on_loop([&] { alive = parked[0].alive(); });
  EXPECT_FALSE(alive);
  close(fd);
}

}  // namespace
}  // namespace fa::http
