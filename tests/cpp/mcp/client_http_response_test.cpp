// The MCP client's HTTP/1.1 response parser and text/event-stream parser (src/mcp/client/
// http_response.h): framing by Content-Length, chunked and close; keep-alive; interim 1xx;
// errors; SSE line endings, fields and limits. Every input is also fed one byte at a time.
#include "mcp/client/http_response.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using fa::mcp::client::HttpResponseParser;
using fa::mcp::client::ResponseHead;
using fa::mcp::client::SseEvent;
using fa::mcp::client::SseParser;
using namespace std::string_literals;

namespace {

struct Collect : fa::mcp::client::ResponseSink {
  int heads = 0, completes = 0, status = 0;
  std::string body;
  void on_head(const ResponseHead& h) override {
    ++heads;
    status = h.status;
  }
  void on_body(std::string_view b) override { body += b; }
  void on_complete() override { ++completes; }
};

// Feeds `wire` whole and byte by byte; both must agree. Returns the whole-feed result.
struct Fed {
  Collect sink;
  HttpResponseParser parser;
  size_t consumed = 0;
};

Fed feed(std::string_view wire, bool eof = false, bool head_request = false) {
  Fed whole{{}, HttpResponseParser(head_request), 0};
  whole.consumed = whole.parser.feed(wire, whole.sink);
  if (eof) whole.parser.finish(whole.sink);
  Fed bytes{{}, HttpResponseParser(head_request), 0};
  for (size_t i = 0; i < wire.size() && !bytes.parser.done() && !bytes.parser.failed(); ++i)
    bytes.consumed += bytes.parser.feed(wire.substr(i, 1), bytes.sink);
  if (eof) bytes.parser.finish(bytes.sink);
  std::string_view shown = wire.substr(0, 120);
  EXPECT_EQ(whole.sink.body, bytes.sink.body) << shown;
  EXPECT_EQ(whole.parser.state(), bytes.parser.state()) << shown;
  if (!whole.parser.failed()) {
    EXPECT_EQ(whole.consumed, bytes.consumed) << shown;
  }
  EXPECT_EQ(whole.sink.completes, bytes.sink.completes) << shown;
  return whole;
}

}  // namespace

TEST(ClientHttpResponse, ContentLength) {
  std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
      "Mcp-Session-Id: abc\r\n\r\nhelloHTTP/1.1 202";
  auto f = feed(wire);
  EXPECT_TRUE(f.parser.done());
  EXPECT_EQ(f.sink.status, 200);
  EXPECT_EQ(f.sink.body, "hello");
  EXPECT_EQ(f.consumed, wire.size() - std::string_view("HTTP/1.1 202").size());
  EXPECT_EQ(f.parser.head().header("mcp-session-id"), "abc");
  EXPECT_EQ(f.parser.head().reason, "OK");
  EXPECT_TRUE(f.parser.keep_alive());
}

TEST(ClientHttpResponse, ChunkedWithExtensionsAndTrailers) {
  auto f = feed(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
      "5;ext=1\r\nhello\r\n1A \r\n" +
      std::string(26, 'x') + "\r\n0\r\nX-Trailer: 1\r\n\r\n");
  EXPECT_TRUE(f.parser.done());
  EXPECT_EQ(f.sink.body, "hello" + std::string(26, 'x'));
  EXPECT_TRUE(f.parser.keep_alive());
}

TEST(ClientHttpResponse, BareLfLines) {
  auto f = feed("HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
  EXPECT_TRUE(f.parser.done());
  EXPECT_EQ(f.sink.body, "ok");
}

TEST(ClientHttpResponse, UntilCloseAndConnectionClose) {
  auto f = feed("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\n", true);
  EXPECT_TRUE(f.parser.done());
  EXPECT_EQ(f.sink.body, "data: 1\n\n");
  EXPECT_FALSE(f.parser.keep_alive());
  auto g = feed("HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(g.parser.done());
  EXPECT_FALSE(g.parser.keep_alive());
  auto h = feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(h.parser.keep_alive());
  auto k = feed("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(k.parser.keep_alive());
}

TEST(ClientHttpResponse, NoBodyStatusesAndHead) {
  EXPECT_TRUE(feed("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n").parser.done());
  EXPECT_TRUE(feed("HTTP/1.1 304 Not Modified\r\n\r\n").parser.done());
  auto f = feed("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", false, true);
  EXPECT_TRUE(f.parser.done());
  EXPECT_EQ(f.sink.completes, 1);
}

TEST(ClientHttpResponse, InterimResponsesSkipped) {
  auto f = feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
  EXPECT_TRUE(f.parser.done());
  EXPECT_EQ(f.sink.heads, 1);
  EXPECT_EQ(f.sink.status, 200);
}

TEST(ClientHttpResponse, ReuseAfterReset) {
  Collect sink;
  HttpResponseParser p;
  std::string two =
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\n"
      "Content-Length: 1\r\n\r\nb";
  size_t n = p.feed(two, sink);
  ASSERT_TRUE(p.done());
  p.reset();
  EXPECT_EQ(p.feed(std::string_view(two).substr(n), sink), two.size() - n);
  EXPECT_TRUE(p.done());
  EXPECT_EQ(sink.status, 404);
  EXPECT_EQ(sink.body, "ab");
}

TEST(ClientHttpResponse, Errors) {
  for (std::string wire : {
           "HTTP/2 200 OK\r\n\r\n",
           "HTTP/1.1 2x0 OK\r\n\r\n",
           "HTTP/1.1 099 Early\r\n\r\n",
           "HTTP/1.1 200 OK\r\n bad: fold\r\n\r\n",
           "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
           "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy",
       }) {
    auto f = feed(wire);
    EXPECT_TRUE(f.parser.failed()) << wire;
    EXPECT_FALSE(f.parser.error().empty()) << wire;
  }
  EXPECT_TRUE(feed("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx").parser.done());
  EXPECT_TRUE(feed(std::string(HttpResponseParser::kMaxHead + 10, 'a')).parser.failed());
}

TEST(ClientHttpResponse, ClosedEarly) {
  auto f = feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
  EXPECT_TRUE(f.parser.failed());
  EXPECT_EQ(f.parser.error(), "connection closed mid-response");
  auto g = feed("", true);
  EXPECT_EQ(g.parser.error(), "connection closed before a response");
}

namespace {

struct Events : fa::mcp::client::SseSink {
  std::vector<std::string> got;  // "type|data|id"
  void on_event(const SseEvent& e) override {
    got.push_back(std::string(e.type) + "|" + std::string(e.data) + "|" + std::string(e.id));
  }
};

std::vector<std::string> sse(std::string_view stream, SseParser* out = nullptr) {
  Events whole, bytes;
  SseParser a, b;
  a.feed(stream, whole);
  for (size_t i = 0; i < stream.size(); ++i) b.feed(stream.substr(i, 1), bytes);
  EXPECT_EQ(whole.got, bytes.got) << stream;
  if (out) *out = a;
  return whole.got;
}

}  // namespace

TEST(ClientSse, FieldsAndLineEndings) {
  SseParser p;
  auto got =
      sse("\xEF\xBB\xBF: comment\r\nid: 7\r\nretry: 250\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n"
          "event: ping\ndata\n\n"
          "id\rdata:x\r\rdata: no dispatch yet",
          &p);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "message|{\"a\":\n1}|7");
  EXPECT_EQ(got[1], "ping||7");
  EXPECT_EQ(got[2], "message|x|");
  EXPECT_TRUE(p.has_retry());
  EXPECT_EQ(p.retry_ms(), 250u);
  EXPECT_EQ(p.last_event_id(), "");
}

TEST(ClientSse, EmptyEventsAndBadFields) {
  auto got = sse("\n\nretry: x1\nid: a\0b\nevent: e\n\nunknown: 1\ndata:  two spaces\n\n"s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "message| two spaces|");
}

TEST(ClientSse, EventTooLarge) {
  Events e;
  SseParser p;
  std::string big = "data: " + std::string(SseParser::kMaxEvent / 2, 'x') + "\n";
  EXPECT_TRUE(p.feed(big, e));
  EXPECT_FALSE(p.feed(big + big, e));
  EXPECT_TRUE(p.failed());
  EXPECT_TRUE(e.got.empty());
}

TEST(ClientHttpResponse, HeadersOfOneResponseDoNotLeakIntoTheNext) {
  // The parser keeps its header strings between responses on a connection (no allocation per
  // response): the next head shows only its own headers, whichever is longer.
  HttpResponseParser parser;
  Collect sink;
  std::string first =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMcp-Session-Id: s-123\r\n"
      "X-Long-Header-Name: a value long enough to live on the heap\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(parser.feed(first, sink), first.size());
  ASSERT_TRUE(parser.done());
  EXPECT_EQ(parser.head().header("mcp-session-id"), "s-123");
  EXPECT_EQ(parser.head().headers.size(), 4u);
  parser.reset();
  EXPECT_TRUE(parser.head().headers.empty());
  std::string second = "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n";
  EXPECT_EQ(parser.feed(second, sink), second.size());
  ASSERT_TRUE(parser.done());
  EXPECT_EQ(parser.head().status, 202);
  EXPECT_EQ(parser.head().reason, "Accepted");
  ASSERT_EQ(parser.head().headers.size(), 1u);
  EXPECT_EQ(parser.head().headers[0].first, "content-length");
  EXPECT_EQ(parser.head().header("mcp-session-id"), "");
  EXPECT_EQ(parser.head().header("x-long-header-name"), "");
  // A head that fails part-way keeps none of the previous response's headers either.
  parser.reset();
  std::string third = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nbad line\r\n\r\n";
  parser.feed(first, sink);
  parser.reset();
  parser.feed(third, sink);
  EXPECT_TRUE(parser.failed());
  ASSERT_EQ(parser.head().headers.size(), 2u);
  EXPECT_EQ(parser.head().header("a"), "1");
  EXPECT_EQ(parser.head().header("content-type"), "");
  // A head split across reads (buffered) and one whole in a read (parsed in place) agree.
  parser.reset();
  Collect split;
  EXPECT_EQ(parser.feed(first.substr(0, 40), split), 40u);
  EXPECT_EQ(parser.feed(first.substr(40), split), first.size() - 40);
  ASSERT_TRUE(parser.done());
  EXPECT_EQ(parser.head().header("x-long-header-name"), "a value long enough to live on the heap");
  EXPECT_EQ(split.body, "{}");
}

TEST(ClientHttpResponse, HeaderLineErrorsSayWhatIsWrong) {
  // RFC 9112 §5: field-name ":" OWS field-value OWS; the name is a token (RFC 9110 §5.6.2).
  for (auto [line, why] :
       std::vector<std::pair<std::string, std::string>>{{"no colon here", "malformed header line"},
                                                        {": empty name", "malformed header line"},
                                                        {"Bad Name: x", "malformed header name"},
                                                        {"B@d: x", "malformed header name"},
                                                        {"Name : x", "malformed header name"}}) {
    HttpResponseParser parser;
    Collect sink;
    parser.feed("HTTP/1.1 200 OK\r\nA: 1\r\n" + line + "\r\n\r\n", sink);
    EXPECT_TRUE(parser.failed()) << line;
    EXPECT_EQ(parser.error(), why) << line;
  }
  HttpResponseParser parser;
  Collect sink;
  std::string ok = "HTTP/1.1 200 OK\r\nX-A_b.c~!#: v:w \r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parser.feed(ok, sink), ok.size());
  EXPECT_EQ(parser.head().header("x-a_b.c~!#"), "v:w");
}
