// Deflater's compression level (ws::Limits::deflate_level): every level inflates back to the
// message; 0 stores (larger than the input), 1 and 9 compress; out of range clamps.
#include "ws/deflater.h"

#include <gtest/gtest.h>

#include <string>

#include "ws/deflate_params.h"

namespace fa::ws {
namespace {

std::string text() {
  std::string s;
  for (int i = 0; i < 400; ++i) s += "{\"id\":" + std::to_string(i) + ",\"name\":\"item\"},";
  return s;
}

size_t compressed_size(int level, const std::string& message) {
  Deflater d(DeflateParams{}, level);
  std::string out;
  EXPECT_TRUE(d.compress(message, out));
  Inflater inf(DeflateParams{});
  std::string back;
  EXPECT_EQ(inf.inflate(out, true, back, 1 << 20), Inflater::Result::kOk) << level;
  EXPECT_EQ(back, message) << level;
  return out.size();
}

TEST(WsDeflater, LevelsRoundTripAndDiffer) {
  std::string m = text();
  size_t stored = compressed_size(0, m);
  size_t fast = compressed_size(1, m);
  size_t best = compressed_size(9, m);
  EXPECT_GT(stored, m.size());  // stored blocks carry their own headers
  EXPECT_LT(fast, m.size() / 4);
  EXPECT_LT(best, m.size() / 4);  // (9 is not always smaller than 1 on a given input)
  EXPECT_EQ(compressed_size(-5, m), stored);  // clamped to 0
  EXPECT_EQ(compressed_size(42, m), best);    // clamped to 9
}

}  // namespace
}  // namespace fa::ws
