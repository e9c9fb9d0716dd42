// EventStream on a real server: the head, events, keep-alive pings from the loop's timers,
// a compressed stream, and a client that leaves.
#include "sse/event_stream.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <memory>

#include "http/test_client.h"

namespace fa::sse {
namespace {

using fa::testing::connect_to;
using fa::testing::read_response;
using fa::testing::send_all;
using fa::testing::ServerThread;
using namespace std::chrono_literals;

// Routes: /three sends three events and ends; /quiet sends one, stays quiet 350 ms (pings
// every 50 ms), then ends.
void routes(http::Server& s) {
  s.route("GET", "/three", [&s](http::Request&, http::Response& res) {
    auto stream = EventStream::open(res, s.loop(), {.ping_interval = 0s});
    ASSERT_NE(stream, nullptr);
    EXPECT_TRUE(stream->send({.data = "one"}));
    EXPECT_TRUE(stream->send({.data = "a\nb", .event = "multi", .id = "2"}));
    EXPECT_FALSE(stream->send({.data = "x", .id = "bad\nid"}));  // refused, nothing sent
    EXPECT_EQ(stream->last_error(), FrameError::kIdHasLineBreak);
    EXPECT_TRUE(stream->send({.data = "three", .retry_ms = 1000}));
    stream->close();
  });
  s.route("GET", "/quiet", [&s](http::Request&, http::Response& res) {
    auto stream = EventStream::open(res, s.loop(), {.ping_interval = 50ms});
    stream->send({.data = "hello"});
    s.loop().call_later(350ms, [stream] { stream->close(); });
  });
}

TEST(EventStream, HeadEventsAndEnd) {
  ServerThread st(routes);
  int fd = connect_to(st.port());
  std::string pending;
  ASSERT_TRUE(send_all(fd, "GET /three HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_EQ(r.header("x-accel-buffering"), "no");
  EXPECT_EQ(r.body,
            "data: one\n\nevent: multi\ndata: a\ndata: b\nid: 2\n\ndata: three\nretry: 1000\n\n");
  ::close(fd);
}

TEST(EventStream, PingsWhileQuiet) {
  ServerThread st(routes);
  int fd = connect_to(st.port());
  std::string pending;
  ASSERT_TRUE(send_all(fd, "GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body.rfind("data: hello\n\n", 0), 0u);
  size_t pings = 0;
  for (size_t p = r.body.find(kPing); p != std::string::npos; p = r.body.find(kPing, p + 1))
    ++pings;
  EXPECT_GE(pings, 3u);  // 350 ms at 50 ms, the first interval had an event
  ::close(fd);
}

TEST(EventStream, CompressedPerFlush) {
  http::ServerConfig cfg;
  cfg.compression.codings = compress::CodingSet().with(compress::Coding::kGzip);
  ServerThread st(routes, cfg);
  int fd = connect_to(st.port());
  std::string pending;
  ASSERT_TRUE(send_all(fd, "GET /three HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"));
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(r.header("vary"), "Accept-Encoding");
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(4096, '\0');
  z.next_in = reinterpret_cast<Bytef*>(r.body.data());
  z.avail_in = static_cast<uInt>(r.body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  EXPECT_EQ(out,
            "data: one\n\nevent: multi\ndata: a\ndata: b\nid: 2\n\ndata: three\nretry: 1000\n\n");
  ::close(fd);
}

}  // namespace
}  // namespace fa::sse
