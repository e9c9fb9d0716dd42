// ChunkedDecoder (RFC 9112 §7.1): in-place decoding with extensions and trailers, resumable at
// every byte boundary, followed by a pipelined request; every framing error and limit.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/h1_parser.h"
#include "http/h1_test_util.h"

namespace fa::http {
namespace {

using test::ExactBuffer;

struct Decoded {
  int rc = kPartial;  // last return value
  std::string body;   // all decoded bytes
  std::string rest;   // bytes after the body (when rc >= 0)
  int status = 0;
  std::string reason;
};

// Decodes `pieces` one call each, every piece in its own exact-size buffer.
Decoded decode_pieces(const std::vector<std::string_view>& pieces, uint64_t max = 1 << 20) {
  ChunkedDecoder dec(max);
  Decoded d;
  for (std::string_view piece : pieces) {
    ExactBuffer buf(piece);
    size_t len = buf.size();
    d.rc = dec.decode(buf.data(), &len);
    EXPECT_LE(len, buf.size());
    d.body.append(buf.data(), len);
    if (d.rc == kError) {
      d.status = dec.error().status;
      d.reason = std::string(dec.error().reason);
      return d;
    }
    if (d.rc >= 0) {
      EXPECT_LE(len + static_cast<size_t>(d.rc), buf.size());
      d.rest.assign(buf.data() + len, static_cast<size_t>(d.rc));
      EXPECT_EQ(dec.total_decoded(), d.body.size());
      return d;
    }
  }
  return d;
}

Decoded decode_once(std::string_view in, uint64_t max = 1 << 20) {
  return decode_pieces({in}, max);
}

TEST(H1Chunked, SingleChunk) {
  const Decoded d = decode_once("5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(d.rc, 0);
  EXPECT_EQ(d.body, "hello");
  EXPECT_EQ(d.rest, "");
}

TEST(H1Chunked, EmptyBody) {
  const Decoded d = decode_once("0\r\n\r\n");
  EXPECT_EQ(d.rc, 0);
  EXPECT_EQ(d.body, "");
}

TEST(H1Chunked, ManyChunksHexCaseAndLeadingZeros) {
  const Decoded d =
      decode_once("3\r\nabc\r\nA\r\n0123456789\r\n0000000000000000000001\r\nZ\r\n00\r\n\r\n");
  EXPECT_EQ(d.rc, 0);
  EXPECT_EQ(d.body, "abc0123456789Z");
}

TEST(H1Chunked, ExtensionsAreSkipped) {
  const Decoded d =
      decode_once("4;name=value;flag\r\nWiki\r\n5 ; q=\"a b;c\"\r\npedia\r\n0;last\r\n\r\n");
  EXPECT_EQ(d.rc, 0);
  EXPECT_EQ(d.body, "Wikipedia");
}

TEST(H1Chunked, TrailersAreValidatedAndDropped) {
  const Decoded d = decode_once("2\r\nhi\r\n0\r\nExpires: never\r\nX-Checksum:abc \t\r\n\r\n");
  EXPECT_EQ(d.rc, 0);
  EXPECT_EQ(d.body, "hi");
}

const std::string kNext = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
const std::string kBody =
    "7;ext=1\r\nMozilla\r\n11\r\nDeveloper Network\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n"
    "0\r\nTrailer-A: 1\r\nTrailer-B: two\r\n\r\n";
const std::string kDecoded = "MozillaDeveloper Networkabcdefghijklmnopqrstuvwxyz";

TEST(H1Chunked, FollowedByPipelinedRequest) {
  const Decoded d = decode_once(kBody + kNext);
  ASSERT_EQ(d.rc, static_cast<int>(kNext.size()));
  EXPECT_EQ(d.body, kDecoded);
  ASSERT_EQ(d.rest, kNext);
  RequestParser parser;
  RequestHead head;
  ExactBuffer next(d.rest);
  ASSERT_EQ(parser.parse_request(next.view(), 0, head), static_cast<int>(kNext.size()));
  EXPECT_EQ(head.path, "/next");
}

TEST(H1Chunked, SplitAtEveryByteBoundary) {
  const std::string in = kBody + kNext;
  for (size_t k = 0; k <= in.size(); ++k) {
    const std::string_view v(in);
    const Decoded d = decode_pieces({v.substr(0, k), v.substr(k)});
    ASSERT_EQ(d.body, kDecoded) << "split at " << k;
    // When the split falls inside kNext, the first call ends the body and returns its prefix.
    if (k < kBody.size()) {
      ASSERT_EQ(d.rc, static_cast<int>(kNext.size())) << "split at " << k;
      ASSERT_EQ(d.rest, kNext);
    } else {
      ASSERT_EQ(d.rest, in.substr(kBody.size(), k - kBody.size()));
    }
  }
}

TEST(H1Chunked, ByteByByte) {
  const std::string in = kBody + kNext;
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < kBody.size(); ++i) pieces.push_back(std::string_view(kBody).substr(i, 1));
  const Decoded d = decode_pieces(pieces);
  EXPECT_EQ(d.rc, 0);
  EXPECT_EQ(d.body, kDecoded);
}

TEST(H1Chunked, PartialWhenIncomplete) {
  for (std::string_view in :
       {"", "5", "5\r", "5\r\nhel", "5\r\nhello", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n",
        "5\r\nhello\r\n0\r\nX: y\r\n", "5\r\nhello\r\n0\r\n\r"}) {
    EXPECT_EQ(decode_once(in).rc, kPartial) << in;
  }
}

TEST(H1Chunked, ResetStartsOver) {
  ChunkedDecoder dec;
  ExactBuffer a("x\r\n");
  size_t len = a.size();
  ASSERT_EQ(dec.decode(a.data(), &len), kError);
  len = a.size();
  EXPECT_EQ(dec.decode(a.data(), &len), kError);  // errors are sticky
  dec.reset();
  ExactBuffer b("1\r\nz\r\n0\r\n\r\n");
  len = b.size();
  EXPECT_EQ(dec.decode(b.data(), &len), 0);
  EXPECT_EQ(std::string_view(b.data(), len), "z");
}

struct BadChunk {
  const char* name;
  std::string_view input;
  int status;
  std::string_view reason;
};

const BadChunk kBadChunks[] = {
    {"NonHexSize", "x\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk size"},
    {"EmptySize", "\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk size"},
    {"ExtWithoutSize", ";a=b\r\n", 400, "invalid chunk size"},
    {"NegativeSize", "-1\r\n", 400, "invalid chunk size"},
    {"HexPrefix", "0x5\r\nhello\r\n", 400, "invalid chunk size"},
    {"JunkAfterSize", "5 x\r\nhello\r\n", 400, "invalid chunk size"},
    {"Overflow", "10000000000000000\r\n", 400, "chunk size overflow"},
    {"OverflowAfterZeros", "00000fffffffffffffffff\r\n", 400, "chunk size overflow"},
    {"BareLfAfterSize", "5\nhello\r\n0\r\n\r\n", 400, "bare LF in chunk size line"},
    {"BareLfInExt", "5;a\nhello\r\n", 400, "bare LF in chunk size line"},
    {"BareCrAfterSize", "5\rhello\r\n", 400, "bare CR in chunk size line"},
    {"CtlInExt", "5;a\x01\r\nhello\r\n", 400, "invalid chunk extension"},
    {"DataTooLong", "5\r\nhelloX\r\n0\r\n\r\n", 400, "missing CRLF after chunk data"},
    {"DataLfOnly", "5\r\nhello\n0\r\n\r\n", 400, "missing CRLF after chunk data"},
    {"DataCrOnly", "5\r\nhello\r0\r\n\r\n", 400, "missing CRLF after chunk data"},
    {"TrailerObsFold", "0\r\nA: b\r\n c\r\n\r\n", 400, "obsolete line folding in trailer"},
    {"TrailerBadName", "0\r\nA(: b\r\n\r\n", 400, "invalid character in trailer field name"},
    {"TrailerSpaceBeforeColon", "0\r\nA : b\r\n\r\n", 400,
     "whitespace between field name and colon"},
    {"TrailerCtl", "0\r\nA: b\x01\r\n\r\n", 400, "invalid character in trailer field value"},
    {"TrailerBareLf", "0\r\nA: b\n\r\n", 400, "bare LF in trailer"},
    {"TrailerBareCr", "0\r\nA: b\rc\r\n\r\n", 400, "bare CR in trailer"},
    {"EndBareCr", "0\r\n\rX", 400, "bare CR after trailer section"},
    {"EndBareLf", "0\r\n\n", 400, "invalid character in trailer field name"},
};

class H1ChunkedBad : public ::testing::TestWithParam<BadChunk> {};

TEST_P(H1ChunkedBad, StatusAndReasonAtEverySplit) {
  const BadChunk& c = GetParam();
  const Decoded whole = decode_once(c.input);
  ASSERT_EQ(whole.rc, kError);
  EXPECT_EQ(whole.status, c.status);
  EXPECT_EQ(whole.reason, c.reason);
  for (size_t k = 0; k <= c.input.size(); ++k) {
    const Decoded d = decode_pieces({c.input.substr(0, k), c.input.substr(k)});
    ASSERT_EQ(d.rc, kError) << "split at " << k;
    EXPECT_EQ(d.reason, c.reason) << "split at " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, H1ChunkedBad, ::testing::ValuesIn(kBadChunks),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(H1Chunked, SizeLineTooLong) {
  const std::string in = "5;" + std::string(kMaxChunkLineBytes, 'e') + "\r\nhello\r\n0\r\n\r\n";
  const Decoded d = decode_once(in);
  ASSERT_EQ(d.rc, kError);
  EXPECT_EQ(d.status, 400);
  EXPECT_EQ(d.reason, "chunk size line too long");
}

TEST(H1Chunked, TrailerSectionTooLarge) {
  std::string in = "0\r\n";
  while (in.size() < kMaxTrailerBytes + 1000) in += "X-Pad: " + std::string(60, 'p') + "\r\n";
  const Decoded d = decode_once(in + "\r\n");
  ASSERT_EQ(d.rc, kError);
  EXPECT_EQ(d.status, 431);
  EXPECT_EQ(d.reason, "trailer section too large");
}

TEST(H1Chunked, BodyLimit) {
  EXPECT_EQ(decode_once("a\r\n0123456789\r\n0\r\n\r\n", 10).rc, 0);  // exactly the limit
  Decoded d = decode_once("b\r\n0123456789a\r\n0\r\n\r\n", 10);
  ASSERT_EQ(d.rc, kError);
  EXPECT_EQ(d.status, 413);
  EXPECT_EQ(d.reason, "chunked body exceeds limit");
  d = decode_once("6\r\n012345\r\n5\r\n01234\r\n0\r\n\r\n", 10);  // total 11 over two chunks
  EXPECT_EQ(d.status, 413);
  EXPECT_EQ(d.body, "012345");  // the first chunk was delivered before the second was refused
  d = decode_once("ffffffffffffffff\r\n", 10);  // the largest size must not wrap total
  EXPECT_EQ(d.status, 413);
}

}  // namespace
}  // namespace fa::http
