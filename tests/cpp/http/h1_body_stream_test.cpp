// Streamed request bodies (Server::route_streaming) over real sockets: Content-Length and
// chunked bodies handed over as they arrive, backpressure, 413, a client leaving mid-body,
// pipelined requests after a streamed one.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "http/connection.h"
#include "http/server.h"
#include "test_client.h"

namespace fa::http {
namespace {

using fa::testing::connect_to;
using fa::testing::read_response;
using fa::testing::send_all;
using fa::testing::ServerThread;
using fa::testing::wait_closed;

std::atomic<int> g_error_status{-1};
std::atomic<int> g_chunks{0};
std::atomic<bool> g_saw_streamed{false};

// Reads the whole body through read_body, then answers "n=<bytes> sum=<byte sum>".
struct Reader : std::enable_shared_from_this<Reader> {
  ResponseHandle handle;
  size_t n = 0;
  uint64_t sum = 0;
  void next() {
    auto self = shared_from_this();
    handle.read_body([self](BodyEvent ev, std::string_view chunk, int status) {
      if (ev == BodyEvent::kData) {
        ++g_chunks;
        self->n += chunk.size();
        for (unsigned char c : chunk) self->sum += c;
        self->next();
      } else if (ev == BodyEvent::kEnd) {
        self->handle.send({200, "text/plain", {}},
                          "n=" + std::to_string(self->n) + " sum=" + std::to_string(self->sum));
      } else {
        g_error_status = status;
      }
    });
  }
};

void routes(Server& s) {
  s.route_streaming("POST", "/upload", [](Request& req, Response& res) {
    g_saw_streamed = req.body_streamed;
    if (!req.body_streamed) {
      uint64_t sum = 0;
      for (unsigned char c : req.body) sum += c;
      res.text("n=" + std::to_string(req.body.size()) + " sum=" + std::to_string(sum));
      return;
    }
    auto r = std::make_shared<Reader>();
    r->handle = res.detach();
    r->next();
  });
  // Never reads the body: the client must be held back by TCP flow control.
  s.route_streaming("POST", "/hold", [](Request&, Response& res) { (void)res.detach(); });
  s.route("GET", "/", [](Request&, Response& res) { res.text("root"); });
  s.route("POST", "/buffered",
          [](Request& req, Response& res) { res.text("n=" + std::to_string(req.body.size())); });
}

std::string pattern_body(size_t n) {
  std::string b(n, '\0');
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<char>('a' + i % 26);
  return b;
}

uint64_t byte_sum(std::string_view s) {
  uint64_t sum = 0;
  for (unsigned char c : s) sum += c;
  return sum;
}

void reset() {
  g_error_status = -1;
  g_chunks = 0;
  g_saw_streamed = false;
}

TEST(H1BodyStream, ContentLengthBodyArrivesInChunks) {
  reset();
  ServerThread st(routes);
  int fd = connect_to(st.port());
  std::string body = pattern_body(3 * 1024 * 1024);
  ASSERT_TRUE(send_all(fd, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n"));
  ASSERT_TRUE(send_all(fd, body));
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "n=" + std::to_string(body.size()) + " sum=" + std::to_string(byte_sum(body)));
  EXPECT_TRUE(g_saw_streamed);
  EXPECT_GT(g_chunks.load(), 1);
  // Keep-alive: the connection serves the next request.
  ASSERT_TRUE(send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = read_response(fd, pending);
  ASSERT_TRUE(r2.ok);
  EXPECT_EQ(r2.body, "root");
  close(fd);
}

TEST(H1BodyStream, SmallBodyIsBufferedAsBefore) {
  reset();
  ServerThread st(routes);
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body, "n=5 sum=" + std::to_string(byte_sum("hello")));
  EXPECT_FALSE(g_saw_streamed);
  close(fd);
}

TEST(H1BodyStream, ChunkedBodyThenPipelinedRequests) {
  reset();
  ServerThread st(routes);
  int fd = connect_to(st.port());
  std::string body;
  std::string wire = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 40; ++i) {
    std::string part = pattern_body(10000 + static_cast<size_t>(i));
    body += part;
    char size[16];
    snprintf(size, sizeof size, "%zx", part.size());
    wire += std::string(size) + "\r\n" + part + "\r\n";
  }
  wire += "0\r\n\r\n";
  wire += "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  wire += "POST /buffered HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  ASSERT_TRUE(send_all(fd, wire));
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body, "n=" + std::to_string(body.size()) + " sum=" + std::to_string(byte_sum(body)));
  auto r2 = read_response(fd, pending);
  ASSERT_TRUE(r2.ok);
  EXPECT_EQ(r2.body, "root");
  auto r3 = read_response(fd, pending);
  ASSERT_TRUE(r3.ok);
  EXPECT_EQ(r3.body, "n=3");
  close(fd);
}

TEST(H1BodyStream, ChunkedPastMaxBodyIs413) {
  reset();
  ServerConfig cfg;
  cfg.limits.max_body_bytes = 200 * 1024;
  ServerThread st(routes, cfg);
  int fd = connect_to(st.port());
  std::string wire = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string part = pattern_body(50000);
  for (int i = 0; i < 6; ++i) wire += "c350\r\n" + part + "\r\n";
  send_all(fd, wire);  // the server may close before all of it is read
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(wait_closed(fd));
  EXPECT_EQ(g_error_status.load(), 413);
  close(fd);
}

TEST(H1BodyStream, ContentLengthPastMaxBodyIs413BeforeDispatch) {
  reset();
  ServerConfig cfg;
  cfg.limits.max_body_bytes = 200 * 1024;
  ServerThread st(routes, cfg);
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n"));
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 413);
  EXPECT_FALSE(g_saw_streamed);
  close(fd);
}

TEST(H1BodyStream, ClientLeavingMidBodyEndsTheStreamWithAnError) {
  reset();
  ServerThread st(routes);
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
  ASSERT_TRUE(send_all(fd, pattern_body(200000)));
  for (int i = 0; i < 200 && g_chunks.load() == 0; ++i) usleep(10000);
  close(fd);
  for (int i = 0; i < 300 && g_error_status.load() == -1; ++i) usleep(10000);
  EXPECT_EQ(g_error_status.load(), 0);
  EXPECT_GT(g_chunks.load(), 0);
}

TEST(H1BodyStream, AStalledBodyTimesOutWith408) {
  reset();
  ServerConfig cfg;
  cfg.body_timeout = std::chrono::seconds(1);
  ServerThread st(routes, cfg);
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
  ASSERT_TRUE(send_all(fd, pattern_body(100000)));  // then nothing more
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(g_error_status.load(), 408);
  EXPECT_TRUE(wait_closed(fd));
  close(fd);
}

TEST(H1BodyStream, ExpectContinueIsAnsweredAtDispatch) {
  reset();
  ServerThread st(routes);
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd,
                       "POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                       "Content-Length: 100000\r\n\r\n"));
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  char buf[64];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  std::string body = pattern_body(100000);
  ASSERT_TRUE(send_all(fd, body));
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body, "n=100000 sum=" + std::to_string(byte_sum(body)));
  close(fd);
}

TEST(H1BodyStream, AnUnreadBodyHoldsTheClientBack) {
  reset();
  ServerConfig cfg;
  cfg.limits.max_body_bytes = 1ull << 30;
  ServerThread st(routes, cfg);
  int fd = connect_to(st.port());
  const size_t total = 256u * 1024 * 1024;
  ASSERT_TRUE(send_all(fd, "POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                               std::to_string(total) + "\r\n\r\n"));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string block(1 << 16, 'x');
  size_t sent = 0;
  int idle = 0;
  while (sent < total && idle < 50) {
    ssize_t n = ::send(fd, block.data(), block.size(), MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      idle = 0;
    } else {
      ++idle;
      usleep(10000);
    }
  }
  // What the kernel buffers on both sides plus one read: far less than the body.
  EXPECT_LT(sent, 64u * 1024 * 1024);
  close(fd);
}

}  // namespace
}  // namespace fa::http
