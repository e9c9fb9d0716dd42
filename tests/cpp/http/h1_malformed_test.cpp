// RequestParser on smuggling vectors and malformed heads (RFC 9112 §2.2, §3, §5, §6, §11.2):
// each must give its documented status and reason, the same when fed split at every byte.
#include <gtest/gtest.h>

#include <string>

#include "http/h1_parser.h"
#include "http/h1_test_util.h"

namespace fa::http {
namespace {

using test::ExactBuffer;
using test::Outcome;
using test::snapshot;
using namespace std::string_view_literals;

struct BadCase {
  const char* name;
  std::string_view input;
  int status;
  std::string_view reason;
};

// Every entry is a complete head (ends in CRLFCRLF) unless the error needs otherwise.
const BadCase kBadCases[] = {
    // Request smuggling (RFC 9112 §6.3, §11.2).
    {"ClThenTe",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
     "both Content-Length and Transfer-Encoding"},
    {"TeThenCl",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400,
     "both Content-Length and Transfer-Encoding"},
    {"ClWithUnknownTe",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: xchunked\r\n\r\n", 400,
     "both Content-Length and Transfer-Encoding"},
    {"DifferingClLines",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400,
     "differing Content-Length values"},
    {"DifferingClList", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", 400,
     "differing Content-Length values"},
    {"ClNotDigits", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5a\r\n\r\n", 400,
     "invalid Content-Length"},
    {"ClNegative", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400,
     "invalid Content-Length"},
    {"ClPlus", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400,
     "invalid Content-Length"},
    {"ClEmpty", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400,
     "invalid Content-Length"},
    {"ClInnerSpace", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", 400,
     "invalid Content-Length"},
    {"ClEmptyElement", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\n", 400,
     "invalid Content-Length"},
    {"TeNotFinalChunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     400, "Transfer-Encoding does not end in chunked"},
    {"TeGzipOnly", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
     "Transfer-Encoding does not end in chunked"},
    {"TeChunkedTwice",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
     "chunked\r\n\r\n",
     400, "chunked applied more than once"},
    {"TeInHttp10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
     "Transfer-Encoding in HTTP/1.0"},
    {"TeEmpty", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", 400,
     "invalid Transfer-Encoding"},
    {"TeGarbage", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked x\r\n\r\n", 400,
     "invalid Transfer-Encoding"},
    {"TeVerticalTab",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \x0b"
     "chunked\r\n\r\n",
     400, "invalid character in field value"},
    {"TeUnknown", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: foo\r\n\r\n", 501,
     "unknown transfer-coding"},
    {"TeChunkedWithParams", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
     501, "unknown transfer-coding"},
    {"TeGzipChunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
     "transfer-coding not implemented"},
    // Field syntax (RFC 9112 §5).
    {"ObsFold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", 400, "obsolete line folding"},
    {"ObsFoldTab", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n", 400,
     "obsolete line folding"},
    {"SpaceBeforeFirstField", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400,
     "whitespace before first header field"},
    {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400,
     "whitespace between field name and colon"},
    {"TabBeforeColon", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length\t: 5\r\n\r\n", 400,
     "whitespace between field name and colon"},
    {"BadNameChar", "GET / HTTP/1.1\r\nHost: h\r\nX(A): b\r\n\r\n", 400,
     "invalid character in field name"},
    {"NameNoColon", "GET / HTTP/1.1\r\nHost: h\r\nXA\r\n\r\n", 400,
     "invalid character in field name"},
    {"EmptyName", "GET / HTTP/1.1\r\nHost: h\r\n: b\r\n\r\n", 400, "empty field name"},
    {"NulInValue", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n"sv, 400,
     "invalid character in field value"},
    {"CtlInValue",
     "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01"
     "b\r\n\r\n",
     400, "invalid character in field value"},
    {"DelInValue",
     "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7f"
     "b\r\n\r\n",
     400, "invalid character in field value"},
    {"BareCrInValue", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400,
     "bare CR in field value"},
    {"BareLfInValue", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\nb\r\n\r\n", 400,
     "bare LF in header section"},
    {"BareLfEndsHead", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400, "bare LF in header section"},
    {"BareCrEndsHead", "GET / HTTP/1.1\r\nHost: h\r\n\rX\r\n\r\n", 400,
     "bare CR in header section"},
    {"BareLfRequestLine", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400, "bare LF in request line"},
    {"BareCrRequestLine", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400, "bare CR in request line"},
    {"BareCrBeforeRequestLine", "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400,
     "bare CR before request line"},
    // Host (RFC 9112 §3.2).
    {"MissingHost", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400, "missing Host header"},
    {"DuplicateHost", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "duplicate Host header"},
    {"DuplicateHost10", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400,
     "duplicate Host header"},
    {"InvalidHost", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "invalid Host header"},
    {"InvalidHostSlash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "invalid Host header"},
    {"InvalidHostAt", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400, "invalid Host header"},
    // Request line (RFC 9112 §3).
    {"BadMethodChar", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in method"},
    {"EmptyMethod", " / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in method"},
    {"TabAfterMethod", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in method"},
    {"EmptyTarget", "GET  HTTP/1.1\r\nHost: h\r\n\r\n", 400, "empty request-target"},
    {"CtlInTarget", "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400,
     "invalid character in request-target"},
    {"DelInTarget", "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400,
     "invalid character in request-target"},
    {"TabInTarget", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400,
     "invalid character in request-target"},
    {"NoVersion", "GET /\r\nHost: h\r\n\r\n", 400, "invalid character in request-target"},
    {"TwoSpacesBeforeVersion", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid HTTP version"},
    {"LowercaseVersion", "GET / http/1.1\r\nHost: h\r\n\r\n", 400, "invalid HTTP version"},
    {"VersionTrailingJunk", "GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400, "invalid HTTP version"},
    {"VersionTwoDigits", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400, "invalid HTTP version"},
    {"Version20", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "HTTP version not supported"},
    {"Version12", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505, "HTTP version not supported"},
    {"Version09", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505, "HTTP version not supported"},
    {"LfOnlyRequest", "GET / HTTP/1.1\n\n", 400, "bare LF in request line"},
    {"BinaryGarbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400,
     "invalid character in method"},
};

class H1MalformedTest : public ::testing::TestWithParam<std::tuple<BadCase, ScanIsa>> {};

TEST_P(H1MalformedTest, StatusAndReason) {
  const auto& [c, isa] = GetParam();
  const Outcome o = test::parse_once(c.input, {}, isa);
  ASSERT_EQ(o.rc, kError);
  EXPECT_EQ(o.status, c.status);
  EXPECT_EQ(o.reason, c.reason);
}

TEST_P(H1MalformedTest, SameErrorWhenSplitAtEveryByte) {
  const auto& [c, isa] = GetParam();
  for (bool rescan : {false, true}) {
    RequestParser parser({}, isa);
    size_t prev = 0;
    bool failed = false;
    for (size_t k = 1; k <= c.input.size() && !failed; ++k) {
      ExactBuffer buf(c.input.substr(0, k));
      RequestHead head;
      const int rc = parser.parse_request(buf.view(), rescan ? 0 : prev, head);
      ASSERT_NE(rc, 0);
      ASSERT_LT(rc, 1) << "prefix " << k << " parsed as a complete head";
      if (rc == kError) {
        EXPECT_EQ(parser.error().status, c.status) << "prefix " << k;
        EXPECT_EQ(parser.error().reason, c.reason) << "prefix " << k;
        failed = true;
      }
      prev = k;
    }
    EXPECT_TRUE(failed) << "never reported an error (rescan=" << rescan << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, H1MalformedTest,
                         ::testing::Combine(::testing::ValuesIn(kBadCases),
                                            ::testing::Values(ScanIsa::kScalar, ScanIsa::kSse42,
                                                              ScanIsa::kAvx2)),
                         [](const auto& info) {
                           const ScanIsa isa = std::get<1>(info.param);
                           return std::string(std::get<0>(info.param).name) + "_" +
                                  (isa == ScanIsa::kScalar  ? "scalar"
                                   : isa == ScanIsa::kSse42 ? "sse42"
                                                            : "avx2");
                         });

}  // namespace
}  // namespace fa::http
