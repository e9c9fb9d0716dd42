// ResponseParser: framing by Content-Length, chunked (with extensions and trailers), 1xx,
// 204/304/HEAD, the close; malformed input; a pipelined stream split at every byte boundary;
// and agreement with the engine's own client parser (src/mcp/client/http_response.h) on
// random responses fed in random pieces.
#include "response_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "mcp/client/http_response.h"

namespace fa::loadgen {
namespace {

struct Outcome {
  int status;
  uint64_t body;
  bool keep_alive;
  bool operator==(const Outcome&) const = default;
};

// Feeds `stream` cut at `cuts` (ascending offsets); returns the responses framed, and
// sets *error when the parser failed.
std::vector<Outcome> frame(std::string_view stream, const std::vector<size_t>& cuts,
                           std::string* error = nullptr, bool eof = false) {
  std::vector<Outcome> out;
  ResponseParser p;
  size_t prev = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    std::string_view piece = stream.substr(prev, end - prev);
    prev = end;
    while (!piece.empty()) {
      size_t used = 0;
      auto r = p.feed(piece, &used);
      piece.remove_prefix(used);
      if (r == ResponseParser::Result::kNeedMore) break;
      if (r == ResponseParser::Result::kError) {
        if (error) *error = p.error();
        return out;
      }
      out.push_back({p.status(), p.body_bytes(), p.keep_alive()});
      p.reset();
    }
  }
  if (eof && p.finish()) out.push_back({p.status(), p.body_bytes(), p.keep_alive()});
  return out;
}

std::vector<Outcome> frame_whole(std::string_view s, std::string* error = nullptr) {
  return frame(s, {}, error);
}

TEST(LoadgenResponseParser, ContentLength) {
  auto r = frame_whole("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (Outcome{200, 5, true}));
}

TEST(LoadgenResponseParser, ChunkedWithExtensionsAndTrailers) {
  // RFC 9112 §7.1: chunk extensions after ';', a trailer section after the last chunk.
  std::string s =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n";
  auto r = frame_whole(s);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (Outcome{200, 31, true}));
}

TEST(LoadgenResponseParser, InterimResponsesAreSkipped) {
  auto r = frame_whole(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (Outcome{201, 2, true}));
}

TEST(LoadgenResponseParser, NoBodyStatusesAndHead) {
  auto r = frame_whole(
      "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], (Outcome{204, 0, true}));
  EXPECT_EQ(r[1], (Outcome{304, 0, true}));
  EXPECT_EQ(r[2], (Outcome{404, 0, true}));
  ResponseParser head(true);
  size_t used = 0;
  std::string s = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
  EXPECT_EQ(head.feed(s, &used), ResponseParser::Result::kDone);
  EXPECT_EQ(used, s.size());
}

TEST(LoadgenResponseParser, ConnectionCloseAndHttp10) {
  auto r = frame_whole(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n"
      "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_FALSE(r[0].keep_alive);
  EXPECT_FALSE(r[1].keep_alive);
  EXPECT_TRUE(r[2].keep_alive);
}

TEST(LoadgenResponseParser, BodyUntilClose) {
  std::string s = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome bytes";
  EXPECT_TRUE(frame(s, {}, nullptr, false).empty());
  auto r = frame(s, {3, 40}, nullptr, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (Outcome{200, 10, false}));
  // A final coding other than chunked: also until the close (RFC 9112 §6.3).
  r = frame("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcd", {},
            nullptr, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].body, 4u);
}

TEST(LoadgenResponseParser, MalformedInputIsAnError) {
  const char* bad[] = {
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
      "ICY 200 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
      "HTTP/1.1 200 OK\r\nName : v\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abcdef0\r\n",
  };
  for (const char* s : bad) {
    std::string error;
    auto r = frame_whole(s, &error);
    EXPECT_TRUE(r.empty()) << s;
    EXPECT_FALSE(error.empty()) << s;
  }
  std::string huge = "HTTP/1.1 200 OK\r\nX: " + std::string(ResponseParser::kMaxHead, 'a');
  std::string error;
  EXPECT_TRUE(frame(huge, {100, 1000, 70000}, &error).empty());
  EXPECT_EQ(error, "response head too large");
  std::string long_line = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" +
                          std::string(ResponseParser::kMaxLine, 'e');
  error.clear();
  EXPECT_TRUE(frame_whole(long_line, &error).empty());
  EXPECT_EQ(error, "chunk-size line too long");
}

// Five pipelined responses of every framing; every cut of the stream into two pieces, into
// three pieces, and byte by byte gives the same five.
TEST(LoadgenResponseParser, PipelinedStreamSplitAtEveryByte) {
  std::string s =
      "HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n{\"message\":\"Hello, World!\"}"
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n"
      "0\r\nExpires: never\r\n\r\n"
      "HTTP/1.1 204 No Content\r\nServer: t\r\n\r\n"
      "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  std::vector<Outcome> want = {
      {200, 27, true}, {200, 9, true}, {204, 0, true}, {503, 4, false}, {200, 0, true}};
  ASSERT_EQ(frame_whole(s), want);
  for (size_t i = 1; i < s.size(); ++i) {
    ASSERT_EQ(frame(s, {i}), want) << "cut at " << i;
  }
  for (size_t i = 1; i < s.size(); i += 7) {
    for (size_t j = i + 1; j < s.size(); ++j) ASSERT_EQ(frame(s, {i, j}), want) << i << "," << j;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < s.size(); ++i) every.push_back(i);
  EXPECT_EQ(frame(s, every), want);
}

// The reference: the engine's client-side parser.
class Collect : public mcp::client::ResponseSink {
 public:
  void on_head(const mcp::client::ResponseHead& h) override { status = h.status; }
  void on_body(std::string_view b) override { body += b.size(); }
  void on_complete() override { complete = true; }
  int status = 0;
  uint64_t body = 0;
  bool complete = false;
};

std::vector<Outcome> reference(std::string_view stream, const std::vector<size_t>& cuts) {
  std::vector<Outcome> out;
  mcp::client::HttpResponseParser p;
  Collect sink;
  size_t prev = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    std::string_view piece = stream.substr(prev, end - prev);
    prev = end;
    while (!piece.empty()) {
      size_t used = p.feed(piece, sink);
      if (p.failed()) return out;
      piece.remove_prefix(used);
      if (!p.done()) break;
      out.push_back({sink.status, sink.body, p.keep_alive()});
      sink = Collect();
      p.reset();
    }
  }
  return out;
}

std::string random_response(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  static const int statuses[] = {200, 201, 204, 301, 304, 404, 500};
  int status = statuses[pick(7)];
  std::string s = "HTTP/1.1 " + std::to_string(status) + " Reason\r\n";
  if (pick(4) == 0) s = "HTTP/1.1 100 Continue\r\n\r\n" + s;
  for (int h = pick(4); h > 0; --h) s += "X-H" + std::to_string(h) + ": " + std::string(pick(20), 'v') + "\r\n";
  if (pick(5) == 0) s += "Connection: close\r\n";
  bool no_body = status == 204 || status == 304;
  if (pick(2) == 0) {
    s += "Transfer-Encoding: chunked\r\n\r\n";
    if (no_body) return s;
    for (int c = pick(4); c > 0; --c) {
      int n = 1 + pick(300);
      char size[16];
      std::snprintf(size, sizeof size, "%x", n);
      s += std::string(size) + (pick(3) == 0 ? ";ext=1" : "") + "\r\n" + std::string(n, 'd') + "\r\n";
    }
    s += "0\r\n";
    if (pick(3) == 0) s += "T: 1\r\n";
    s += "\r\n";
  } else {
    int n = no_body ? 0 : pick(400);
    s += "Content-Length: " + std::to_string(n) + "\r\n\r\n" + std::string(n, 'b');
  }
  return s;
}

TEST(LoadgenResponseParser, AgreesWithTheEngineClientParser) {
  std::mt19937 rng(20261130);
  for (int round = 0; round < 400; ++round) {
    std::string stream;
    int count = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < count; ++i) stream += random_response(rng);
    std::vector<size_t> cuts;
    for (size_t at = 1 + rng() % 50; at < stream.size(); at += 1 + rng() % 50) cuts.push_back(at);
    std::vector<Outcome> ours = frame(stream, cuts);
    ASSERT_EQ(ours.size(), static_cast<size_t>(count)) << stream;
    ASSERT_EQ(ours, reference(stream, cuts)) << stream;
  }
}

}  // namespace
}  // namespace fa::loadgen
