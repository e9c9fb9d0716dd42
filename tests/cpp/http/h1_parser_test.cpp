// RequestParser: valid forms, semantics (RFC 9112 §3, §5, §6, §9.3), split-at-every-byte
// equivalence and pipelining, on every scanner ISA.
#include <gtest/gtest.h>

#include <string>

#include "http/h1_parser.h"
#include "http/h1_scan.h"
#include "http/h1_test_util.h"

namespace fa::http {
namespace {

using test::ExactBuffer;
using test::Outcome;
using test::parse_once;
using test::snapshot;

constexpr std::string_view kChromeGet =
    "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"
    "Host: www.kittyhell.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: "
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Sec-Fetch-Site: none\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx\r\n"
    "\r\n";

class H1ParserTest : public ::testing::TestWithParam<ScanIsa> {
 protected:
  Outcome parse(std::string_view in, const ParserLimits& limits = {}) {
    return parse_once(in, limits, GetParam());
  }

  // Feeds every prefix of `in` (each in its own exact-size buffer, prev_len = the previous
  // prefix length, or 0 when `rescan`), then all of it; checks each step against the one-shot
  // result: a complete head only at the end, an error only the one-shot error.
  void expect_split_equivalent(std::string_view in, bool rescan, const ParserLimits& limits = {}) {
    const Outcome whole = parse(in, limits);
    RequestParser parser(limits, GetParam());
    size_t prev = 0;
    for (size_t k = 1; k <= in.size(); ++k) {
      ExactBuffer buf(in.substr(0, k));
      RequestHead head;
      const int rc = parser.parse_request(buf.view(), rescan ? 0 : prev, head);
      const Outcome got = snapshot(rc, parser, head, buf.view());
      if (rc == kError) {
        ASSERT_EQ(whole.rc, kError) << "prefix " << k << ": " << got.reason;
        ASSERT_EQ(got.status, whole.status) << "prefix " << k;
        ASSERT_EQ(got.reason, whole.reason) << "prefix " << k;
        return;
      }
      if (rc > 0) {
        ASSERT_EQ(static_cast<size_t>(rc), k) << "complete before its last byte";
        ASSERT_EQ(got, whole);
        return;
      }
      prev = k;
    }
    ASSERT_EQ(whole.rc, kPartial);
  }
};

TEST_P(H1ParserTest, SimpleGet) {
  const std::string in = "GET /hello?name=world HTTP/1.1\r\nHost: example.com\r\n\r\n";
  const Outcome o = parse(in);
  ASSERT_EQ(o.rc, static_cast<int>(in.size()));
  EXPECT_EQ(o.method, "GET");
  EXPECT_EQ(o.method_id, Method::kGet);
  EXPECT_EQ(o.target, "/hello?name=world");
  EXPECT_EQ(o.path, "/hello");
  EXPECT_EQ(o.query, "name=world");
  EXPECT_EQ(o.minor, 1);
  ASSERT_EQ(o.headers.size(), 1u);
  EXPECT_EQ(o.headers[0].first, "Host");
  EXPECT_EQ(o.headers[0].second, "example.com");
  EXPECT_TRUE(o.keep_alive);
  EXPECT_FALSE(o.chunked);
  EXPECT_EQ(o.content_length, -1);
  EXPECT_EQ(o.head_bytes, in.size());
}

TEST_P(H1ParserTest, ChromeGetAllHeaders) {
  const Outcome o = parse(kChromeGet);
  ASSERT_EQ(o.rc, static_cast<int>(kChromeGet.size()));
  ASSERT_EQ(o.headers.size(), 15u);
  EXPECT_EQ(o.headers[2].first, "sec-ch-ua");
  EXPECT_EQ(o.headers[2].second,
            "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"");
  EXPECT_EQ(o.headers[14].first, "Cookie");
  EXPECT_EQ(o.headers[14].second, "wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx");
  EXPECT_EQ(o.path, "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg");
  EXPECT_EQ(o.query, "");
  EXPECT_TRUE(o.keep_alive);
}

TEST_P(H1ParserTest, HeaderLookupIsCaseInsensitive) {
  ExactBuffer buf(
      "GET / HTTP/1.1\r\nHost: h\r\nX-Thing:  a b \t\r\nx-thing: second\r\nEmpty:\r\n\r\n");
  RequestParser parser({}, GetParam());
  RequestHead head;
  ASSERT_GT(parser.parse_request(buf.view(), 0, head), 0);
  EXPECT_EQ(head.header("x-THING"), "a b");  // first of two; OWS trimmed, inner space kept
  EXPECT_EQ(head.header("HOST"), "h");
  EXPECT_EQ(head.header("empty"), "");
  EXPECT_EQ(head.header("missing").data(), nullptr);
  EXPECT_EQ(head.header("x-thin"), std::string_view());
}

TEST_P(H1ParserTest, ObsTextAndTabAllowedInValues) {
  const Outcome o = parse("GET / HTTP/1.1\r\nHost: h\r\nX-U: caf\xc3\xa9\tok\r\n\r\n");
  ASSERT_GT(o.rc, 0);
  EXPECT_EQ(o.headers[1].second, "caf\xc3\xa9\tok");
}

TEST_P(H1ParserTest, PostWithContentLength) {
  const std::string head =
      "POST /api/items HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
      "Content-Length: 13\r\n\r\n";
  const Outcome o = parse(head + "{\"a\":[1,2,3]}");
  ASSERT_EQ(o.rc, static_cast<int>(head.size()));  // the body is not part of the head
  EXPECT_EQ(o.method_id, Method::kPost);
  EXPECT_EQ(o.content_length, 13);
  EXPECT_FALSE(o.chunked);
}

TEST_P(H1ParserTest, ChunkedRequest) {
  const Outcome o = parse(
      "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  ASSERT_GT(o.rc, 0);
  EXPECT_TRUE(o.chunked);
  EXPECT_EQ(o.content_length, -1);
}

TEST_P(H1ParserTest, TransferEncodingListWithEmptyElements) {
  // RFC 9110 §5.6.1: empty list elements are accepted and ignored.
  const Outcome o = parse("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked ,\r\n\r\n");
  ASSERT_GT(o.rc, 0);
  EXPECT_TRUE(o.chunked);
}

TEST_P(H1ParserTest, IdenticalContentLengthsAccepted) {
  Outcome o = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
  ASSERT_GT(o.rc, 0);
  EXPECT_EQ(o.content_length, 5);
  o = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n");
  ASSERT_GT(o.rc, 0);
  EXPECT_EQ(o.content_length, 5);
  o = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n");
  EXPECT_EQ(o.content_length, 7);
  o = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(o.content_length, 0);
}

TEST_P(H1ParserTest, Http10KeepAliveRules) {
  Outcome o = parse("GET / HTTP/1.0\r\n\r\n");  // no Host needed in 1.0
  ASSERT_GT(o.rc, 0);
  EXPECT_EQ(o.minor, 0);
  EXPECT_FALSE(o.keep_alive);
  o = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_TRUE(o.keep_alive);
  o = parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
  EXPECT_FALSE(o.keep_alive);  // close wins (RFC 9112 §9.3)
}

TEST_P(H1ParserTest, Http11ConnectionClose) {
  Outcome o = parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(o.keep_alive);
  o = parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\nConnection: CLOSE\r\n\r\n");
  EXPECT_FALSE(o.keep_alive);
  o = parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n");
  EXPECT_TRUE(o.keep_alive);
}

TEST_P(H1ParserTest, UpgradeNeedsConnectionOptionAndHeader) {
  Outcome o = parse(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: "
      "websocket\r\n\r\n");
  EXPECT_TRUE(o.upgrade);
  EXPECT_TRUE(o.keep_alive);
  o = parse("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_FALSE(o.upgrade);
  o = parse("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n");
  EXPECT_FALSE(o.upgrade);
}

TEST_P(H1ParserTest, ExpectContinue) {
  Outcome o =
      parse("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 10\r\n\r\n");
  EXPECT_TRUE(o.expect_continue);
  o = parse("PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
  EXPECT_FALSE(o.expect_continue);  // RFC 9110 §10.1.1: ignored in 1.0
  o = parse("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n");
  EXPECT_FALSE(o.expect_continue);
}

TEST_P(H1ParserTest, MethodsAndTargetForms) {
  struct Case {
    std::string_view method;
    Method id;
  } cases[] = {
      {"GET", Method::kGet},         {"HEAD", Method::kHead},     {"POST", Method::kPost},
      {"PUT", Method::kPut},         {"DELETE", Method::kDelete}, {"CONNECT", Method::kConnect},
      {"OPTIONS", Method::kOptions}, {"TRACE", Method::kTrace},   {"PATCH", Method::kPatch},
      {"PURGE", Method::kOther},     {"get", Method::kOther}};
  for (const Case& c : cases) {
    const Outcome o = parse(std::string(c.method) + " * HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_GT(o.rc, 0) << c.method;
    EXPECT_EQ(o.method, c.method);
    EXPECT_EQ(o.method_id, c.id) << c.method;
    EXPECT_EQ(method_from_string(c.method), c.id);
    if (c.id != Method::kOther) {
      EXPECT_EQ(method_name(c.id), c.method);
    }
  }
  EXPECT_EQ(method_name(Method::kOther), "");
  Outcome o = parse("GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(o.target, "http://example.com/x?y");
  EXPECT_EQ(o.query, "y");
  o = parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  EXPECT_EQ(o.target, "example.com:443");
  o = parse("GET /p#frag HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(o.path, "/p");
  EXPECT_EQ(o.query, "");
  o = parse("GET /p?q=1#frag HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(o.path, "/p");
  EXPECT_EQ(o.query, "q=1");
  o = parse("GET /p? HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
  EXPECT_EQ(o.path, "/p");
  EXPECT_EQ(o.query, "");
}

TEST_P(H1ParserTest, LeadingEmptyLinesAreSkipped) {
  const std::string in = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  const Outcome o = parse(in);
  ASSERT_EQ(o.rc, static_cast<int>(in.size()));
  EXPECT_EQ(o.method, "GET");
}

TEST_P(H1ParserTest, EmptyHostAllowed) {
  const Outcome o = parse("GET / HTTP/1.1\r\nHost:\r\n\r\n");  // RFC 9112 §3.2
  ASSERT_GT(o.rc, 0);
}

// The SIMD Host check reads a window around the value; check every length and bad position,
// with the value near the end of the buffer and far from it.
TEST_P(H1ParserTest, HostValidationEveryLengthAndPosition) {
  for (size_t len = 1; len <= 40; ++len) {
    for (size_t bad = 0; bad <= len; ++bad) {  // bad == len: all valid
      std::string host(len, 'a');
      if (bad < len) host[bad] = '/';
      for (bool host_last : {true, false}) {
        const std::string in = host_last ? "GET / HTTP/1.1\r\nX: y\r\nHost: " + host + "\r\n\r\n"
                                         : "GET / HTTP/1.1\r\nHost: " + host +
                                               "\r\nX-Pad: " + std::string(70, 'p') + "\r\n\r\n";
        const Outcome o = parse(in);
        if (bad < len) {
          ASSERT_EQ(o.rc, kError) << "len " << len << " bad at " << bad;
          ASSERT_EQ(o.reason, "invalid Host header");
        } else {
          ASSERT_GT(o.rc, 0) << "len " << len << ": " << o.reason;
        }
      }
    }
  }
}

TEST_P(H1ParserTest, PartialReturnsPartial) {
  for (std::string_view in : {"", "G", "GET", "GET /", "GET / HTTP/1.1", "GET / HTTP/1.1\r",
                              "GET / HTTP/1.1\r\nHost: h", "GET / HTTP/1.1\r\nHost: h\r\n\r"}) {
    EXPECT_EQ(parse(in).rc, kPartial) << in;
  }
}

TEST_P(H1ParserTest, SplitAtEveryByteMatchesOneShot) {
  const std::string_view inputs[] = {
      kChromeGet,
      "GET /a?b=c HTTP/1.1\r\nHost: h\r\n\r\n",
      "\r\nPOST /x HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Long: "
      "0123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n",
  };
  for (std::string_view in : inputs) {
    SCOPED_TRACE(in);
    expect_split_equivalent(in, /*rescan=*/false);
    expect_split_equivalent(in, /*rescan=*/true);
  }
}

TEST_P(H1ParserTest, PipelinedBatch) {
  const std::string batch = std::string(kChromeGet) +
                            "POST /items HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}" +
                            "GET /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  ExactBuffer buf(batch);
  RequestParser parser({}, GetParam());
  RequestHead head;
  size_t off = 0;
  std::vector<std::string> paths;
  while (off < buf.size()) {
    const int rc = parser.parse_request(buf.view().substr(off), 0, head);
    ASSERT_GT(rc, 0) << "at offset " << off;
    paths.emplace_back(head.path);
    off += static_cast<size_t>(rc) +
           (head.content_length > 0 ? static_cast<size_t>(head.content_length) : 0);
  }
  EXPECT_EQ(off, buf.size());
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[1], "/items");
  EXPECT_EQ(paths[2], "/last");
  EXPECT_FALSE(head.keep_alive);
}

TEST_P(H1ParserTest, HeadFieldsAreResetBetweenRequests) {
  RequestParser parser({}, GetParam());
  RequestHead head;
  ExactBuffer a(
      "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
      "Connection: close, upgrade\r\nUpgrade: x\r\n\r\n");
  ASSERT_GT(parser.parse_request(a.view(), 0, head), 0);
  ASSERT_TRUE(head.chunked && head.expect_continue && head.upgrade && !head.keep_alive);
  ExactBuffer b("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_GT(parser.parse_request(b.view(), 0, head), 0);
  EXPECT_FALSE(head.chunked);
  EXPECT_FALSE(head.expect_continue);
  EXPECT_FALSE(head.upgrade);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(head.content_length, -1);
  EXPECT_EQ(head.num_headers, 1u);
  EXPECT_EQ(head.query, "");
}

TEST(H1ParserIsa, BestIsaIsNamedAndUsable) {
  const ScanIsa best = best_scan_isa();
  EXPECT_NE(best, ScanIsa::kAuto);
  EXPECT_NE(scan_isa_name(best), "auto");
  EXPECT_EQ(scan_isa_name(ScanIsa::kScalar), "scalar");
}

// benchmarks/micro/h1_parser_bench.cpp compares ours with picohttpparser ISA for ISA; that
// relies on the ScanIsa argument pinning the scanner (kScalar: the portable code on any CPU).
TEST(H1ParserIsa, RequestedIsaPinsTheScanner) {
  using detail::parse_head_fn;
  const ScanIsa best = best_scan_isa();
  EXPECT_EQ(parse_head_fn(ScanIsa::kScalar), &detail::scalar::parse_head);
  EXPECT_EQ(parse_head_fn(ScanIsa::kSse42),
            best == ScanIsa::kScalar ? &detail::scalar::parse_head : &detail::sse42::parse_head);
  if (best == ScanIsa::kAvx2) {
    EXPECT_EQ(parse_head_fn(ScanIsa::kAvx2), &detail::avx2::parse_head);
  }
  EXPECT_EQ(parse_head_fn(ScanIsa::kAvx2), parse_head_fn(best));  // the best there is, at most
  EXPECT_EQ(parse_head_fn(ScanIsa::kAuto), parse_head_fn(best));
}

INSTANTIATE_TEST_SUITE_P(Isa, H1ParserTest,
                         ::testing::Values(ScanIsa::kScalar, ScanIsa::kSse42, ScanIsa::kAvx2),
                         [](const auto& info) {
                           std::string n(scan_isa_name(info.param));
                           return n == "sse4.2" ? std::string("sse42") : n;
                         });

}  // namespace
}  // namespace fa::http
