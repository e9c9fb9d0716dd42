// FrameGuard (src/h2/frame_guard.h) and the h2c preface matcher: sans-I/O, byte by byte.
#include "h2/frame_guard.h"

#include <gtest/gtest.h>

#include <string>

#include "h2/preface.h"

using namespace fa::h2;

namespace {

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string payload = {}) {
  std::string f;
  uint32_t n = static_cast<uint32_t>(payload.size());
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int s = 24; s >= 0; s -= 8) f += static_cast<char>(stream >> s);
  return f + payload;
}

std::string headers(uint32_t id, bool end_headers) { return frame(0x1, end_headers ? 0x4 : 0, id, "abc"); }
std::string continuation(uint32_t id, bool end) { return frame(0x9, end ? 0x4 : 0, id, "x"); }
std::string rst(uint32_t id) { return frame(0x3, 0, id, std::string(4, '\0')); }

}  // namespace

TEST(Preface, PrefixWaitsMismatchRefuses) {
  EXPECT_EQ(match_preface("PRI * HT"), PrefaceMatch::kPartial);
  EXPECT_EQ(match_preface(kClientPreface), PrefaceMatch::kYes);
  EXPECT_EQ(match_preface(std::string(kClientPreface) + "more"), PrefaceMatch::kYes);
  EXPECT_EQ(match_preface("GET / HTTP/1.1\r\n"), PrefaceMatch::kNo);
  EXPECT_EQ(match_preface("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"), PrefaceMatch::kNo);
}

TEST(FrameGuard, ContinuationsWithinBoundPass) {
  FrameGuard g;
  std::string in = headers(1, false);
  for (int i = 0; i < 31; ++i) in += continuation(1, false);
  in += continuation(1, true);
  EXPECT_EQ(g.feed(in, 0), GuardVerdict::kOk);
  EXPECT_EQ(g.feed(headers(3, false) + continuation(3, true), 0), GuardVerdict::kOk);  // reset per block
}

TEST(FrameGuard, ContinuationFloodIsCaughtEvenByteByByte) {
  FrameGuard g;
  std::string in = headers(1, false);
  for (int i = 0; i < 33; ++i) in += continuation(1, false);
  GuardVerdict v = GuardVerdict::kOk;
  for (char c : in) v = g.feed(std::string_view(&c, 1), 0);
  EXPECT_EQ(v, GuardVerdict::kContinuationFlood);
}

TEST(FrameGuard, HeaderBlockBytesBounded) {
  FrameGuard g(GuardLimits{.max_header_block = 100});
  EXPECT_EQ(g.feed(frame(0x1, 0, 1, std::string(90, 'a')) + frame(0x9, 0, 1, std::string(20, 'b')), 0),
            GuardVerdict::kContinuationFlood);
}

TEST(FrameGuard, RapidResetBucket) {
  FrameGuard g(GuardLimits{.resets_burst = 10, .resets_per_second = 5});
  std::string ten;
  for (uint32_t i = 0; i < 10; ++i) ten += rst(1 + 2 * i);
  EXPECT_EQ(g.feed(ten, 0.0), GuardVerdict::kOk);
  EXPECT_EQ(g.feed(rst(21), 1.0), GuardVerdict::kOk);  // refilled 5 tokens in one second
  EXPECT_EQ(g.feed(ten, 1.0), GuardVerdict::kRapidReset);
}

TEST(FrameGuard, PayloadBytesAreSkippedNotParsed) {
  FrameGuard g;
  // A DATA payload that looks like CONTINUATION headers must not count.
  std::string fake;
  for (int i = 0; i < 100; ++i) fake += continuation(1, false);
  EXPECT_EQ(g.feed(headers(1, false) + frame(0x0, 0, 1, fake), 0), GuardVerdict::kOk);
}
