// Codecs round-trip through the reference decoders (zlib, libbrotlidec, libzstd), whole and
// flushed per write — each flushed prefix decodes to everything written so far.
#include "compress/encoder.h"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <string>

namespace fa::compress {
namespace {

std::string gunzip(std::string_view in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

std::string unbrotli(std::string_view in) {
  BrotliDecoderState* s = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  std::string out(1 << 20, '\0');
  size_t avail_in = in.size(), avail_out = out.size();
  const uint8_t* next_in = reinterpret_cast<const uint8_t*>(in.data());
  uint8_t* next_out = reinterpret_cast<uint8_t*>(out.data());
  BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, nullptr);
  out.resize(out.size() - avail_out);
  BrotliDecoderDestroyInstance(s);
  return out;
}

std::string unzstd(std::string_view in) {
  ZSTD_DCtx* d = ZSTD_createDCtx();
  std::string out(1 << 20, '\0');
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  while (input.pos < input.size) {
    size_t rc = ZSTD_decompressStream(d, &output, &input);
    if (ZSTD_isError(rc)) break;
  }
  out.resize(output.pos);
  ZSTD_freeDCtx(d);
  return out;
}

std::string decode(Coding c, std::string_view in) {
  switch (c) {
    case Coding::kGzip:
      return gunzip(in);
    case Coding::kBrotli:
      return unbrotli(in);
    case Coding::kZstd:
      return unzstd(in);
    case Coding::kIdentity:
      break;
  }
  return std::string(in);
}

std::string sample_json() {
  std::string s = "[";
  for (int i = 0; i < 2000; ++i)
    s += R"({"id":)" + std::to_string(i) + R"(,"name":"item","ok":true},)";
  s.back() = ']';
  return s;
}

class Codec : public ::testing::TestWithParam<std::pair<Coding, int>> {};

TEST_P(Codec, WholeBodyRoundTrips) {
  auto [coding, level] = GetParam();
  std::string body = sample_json(), out;
  ASSERT_TRUE(compress_all(coding, level, body, out));
  EXPECT_LT(out.size(), body.size() / 5);
  EXPECT_EQ(decode(coding, out), body);
  std::string again;  // per-thread state is reused: a second body must come out right too
  ASSERT_TRUE(compress_all(coding, level, "hello hello hello", again));
  EXPECT_EQ(decode(coding, again), "hello hello hello");
}

TEST_P(Codec, EachWriteIsFlushed) {
  auto [coding, level] = GetParam();
  auto enc = make_encoder(coding, level);
  ASSERT_NE(enc, nullptr);
  std::string wire, expect;
  for (int i = 0; i < 5; ++i) {
    std::string event = "data: {\"n\":" + std::to_string(i) + "}\n\n";
    ASSERT_TRUE(enc->write(event, wire));
    expect += event;
    EXPECT_EQ(decode(coding, wire), expect) << "after write " << i;  // nothing held back
  }
  ASSERT_TRUE(enc->finish({}, wire));
  EXPECT_EQ(decode(coding, wire), expect);
}

INSTANTIATE_TEST_SUITE_P(All, Codec,
                         ::testing::Values(std::pair{Coding::kGzip, 6}, std::pair{Coding::kGzip, 9},
                                           std::pair{Coding::kBrotli, 4},
                                           std::pair{Coding::kBrotli, 11},
                                           std::pair{Coding::kZstd, 3},
                                           std::pair{Coding::kZstd, 19}));

TEST(Encoder, IdentityHasNone) {
  EXPECT_EQ(make_encoder(Coding::kIdentity, 0), nullptr);
}

}  // namespace
}  // namespace fa::compress
