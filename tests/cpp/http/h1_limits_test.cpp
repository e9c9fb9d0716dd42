// RequestParser limits: 414 (request line), 431 (head size, field count), 413 (Content-Length),
// reported as soon as a partial head already exceeds them; exact limits are accepted.
#include <gtest/gtest.h>

#include <string>

#include "http/h1_parser.h"
#include "http/h1_test_util.h"

namespace fa::http {
namespace {

using test::ExactBuffer;
using test::Outcome;

ParserLimits small_limits() {
  ParserLimits l;
  l.max_request_line = 32;
  l.max_header_bytes = 128;
  l.max_headers = 4;
  l.max_body_bytes = 100;
  return l;
}

class H1LimitsTest : public ::testing::TestWithParam<ScanIsa> {
 protected:
  Outcome parse(std::string_view in, const ParserLimits& l = small_limits()) {
    return test::parse_once(in, l, GetParam());
  }

  // Feeds growing prefixes with prev_len; returns the first non-partial outcome and its length.
  std::pair<Outcome, size_t> feed(std::string_view in, const ParserLimits& l = small_limits()) {
    RequestParser parser(l, GetParam());
    size_t prev = 0;
    for (size_t k = 1; k <= in.size(); ++k) {
      ExactBuffer buf(in.substr(0, k));
      RequestHead head;
      const int rc = parser.parse_request(buf.view(), prev, head);
      if (rc != kPartial) return {test::snapshot(rc, parser, head, buf.view()), k};
      prev = k;
    }
    Outcome partial;
    partial.rc = kPartial;
    return {partial, in.size()};
  }
};

std::string line_of(size_t len) {  // a request line of exactly `len` bytes (without CRLF)
  const std::string fixed = "GET / HTTP/1.1";
  return "GET /" + std::string(len - fixed.size(), 'a') + " HTTP/1.1";
}

TEST_P(H1LimitsTest, RequestLineAtLimitAccepted) {
  const Outcome o = parse(line_of(32) + "\r\nHost: h\r\n\r\n");
  EXPECT_GT(o.rc, 0) << o.reason;
}

TEST_P(H1LimitsTest, RequestLineOverLimitIs414) {
  const Outcome o = parse(line_of(33) + "\r\nHost: h\r\n\r\n");
  ASSERT_EQ(o.rc, kError);
  EXPECT_EQ(o.status, 414);
  EXPECT_EQ(o.reason, "request line too long");
}

TEST_P(H1LimitsTest, PartialRequestLineOverLimitIs414Early) {
  const std::string in = "GET /" + std::string(200, 'a');  // no CRLF yet
  const auto [o, at] = feed(in);
  ASSERT_EQ(o.rc, kError);
  EXPECT_EQ(o.status, 414);
  EXPECT_EQ(at, 35u);  // the first byte past 32 + CRLF
  EXPECT_EQ(parse(in).status, 414);
}

TEST_P(H1LimitsTest, HeadAtLimitAccepted) {
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  in += std::string(128 - in.size() - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(in.size(), 128u);
  const Outcome o = parse(in);
  EXPECT_EQ(o.rc, 128);
}

TEST_P(H1LimitsTest, HeadOverLimitIs431) {
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  in += std::string(128 - in.size() - 3, 'v') + "\r\n\r\n";
  ASSERT_EQ(in.size(), 129u);
  const Outcome o = parse(in);
  ASSERT_EQ(o.rc, kError);
  EXPECT_EQ(o.status, 431);
  EXPECT_EQ(o.reason, "request header section too large");
}

TEST_P(H1LimitsTest, PartialHeadOverLimitIs431Early) {
  const std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(1000, 'v');  // never ends
  const auto [o, at] = feed(in);
  ASSERT_EQ(o.rc, kError);
  EXPECT_EQ(o.status, 431);
  EXPECT_EQ(at, 129u);  // the first byte past the limit
}

TEST_P(H1LimitsTest, EmptyLineFloodIs431) {
  std::string in;
  for (int i = 0; i < 100; ++i) in += "\r\n";
  const Outcome o = parse(in);
  ASSERT_EQ(o.rc, kError);
  EXPECT_EQ(o.status, 431);
}

TEST_P(H1LimitsTest, FieldCountAtLimitAccepted) {
  const Outcome o = parse("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
  ASSERT_GT(o.rc, 0);
  EXPECT_EQ(o.headers.size(), 4u);
}

TEST_P(H1LimitsTest, TooManyFieldsIs431) {
  const Outcome o = parse("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
  ASSERT_EQ(o.rc, kError);
  EXPECT_EQ(o.status, 431);
  EXPECT_EQ(o.reason, "too many header fields");
  // Reported before the head ends.
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD:").status, 431);
}

TEST_P(H1LimitsTest, MaxHeadersIsClampedToStorage) {
  ParserLimits l;
  l.max_headers = 100000;
  RequestParser parser(l, GetParam());
  EXPECT_EQ(parser.limits().max_headers, kMaxHeaders);
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (size_t i = 1; i < kMaxHeaders; ++i) in += "X: y\r\n";
  Outcome o = parse(in + "\r\n", l);
  ASSERT_GT(o.rc, 0) << o.reason;
  EXPECT_EQ(o.headers.size(), kMaxHeaders);
  o = parse(in + "X: y\r\n\r\n", l);
  EXPECT_EQ(o.status, 431);
}

TEST_P(H1LimitsTest, ContentLengthLimit) {
  Outcome o = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n");
  ASSERT_GT(o.rc, 0);
  EXPECT_EQ(o.content_length, 100);
  o = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n");
  ASSERT_EQ(o.rc, kError);
  EXPECT_EQ(o.status, 413);
  EXPECT_EQ(o.reason, "Content-Length exceeds limit");
  o = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n");
  EXPECT_EQ(o.status, 413);
  o = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551617\r\n\r\n",
            ParserLimits{});
  EXPECT_EQ(o.status, 413);  // 2^64 + 1 must not wrap around to 1
}

INSTANTIATE_TEST_SUITE_P(Isa, H1LimitsTest,
                         ::testing::Values(ScanIsa::kScalar, ScanIsa::kSse42, ScanIsa::kAvx2));

}  // namespace
}  // namespace fa::http
