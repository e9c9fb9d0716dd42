// Shortest round-trip double formatting in Python's repr layout (see double_format.h).
#include "json/double_format.h"

#include <charconv>
#include <cstring>

namespace fa::json {
namespace {

// Python switches to exponent notation when the position of the decimal point, counted as in
// 0.d1d2... x 10^decpt, is <= -4 or > 16 (CPython Python/pystrtod.c, format_float_short, 'r').
constexpr int kMinFixedDecpt = -3;
constexpr int kMaxFixedDecpt = 16;

}  // namespace

std::size_t format_double(double v, char* out) noexcept {
  // std::to_chars without precision yields the shortest digits that round-trip, nearest to the
  // exact value, i.e. the same digits as Python's dtoa mode 0; we only redo the layout.
  char sci[kMaxDoubleChars];
  auto res = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  const char* p = sci;
  const char* end = res.ptr;
  char* o = out;
  if (*p == '-') {
    *o++ = '-';
    ++p;
  }
  char digits[20];
  int nd = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') digits[nd++] = *p;
    ++p;
  }
  ++p;  // 'e'
  bool neg_exp = *p == '-';
  ++p;  // sign
  int exp10 = 0;
  while (p < end) exp10 = exp10 * 10 + (*p++ - '0');
  if (neg_exp) exp10 = -exp10;
  const int decpt = exp10 + 1;

  if (decpt >= kMinFixedDecpt && decpt <= kMaxFixedDecpt) {
    if (decpt <= 0) {
      *o++ = '0';
      *o++ = '.';
      for (int i = decpt; i < 0; ++i) *o++ = '0';
      std::memcpy(o, digits, nd);
      o += nd;
    } else if (decpt < nd) {
      std::memcpy(o, digits, decpt);
      o += decpt;
      *o++ = '.';
      std::memcpy(o, digits + decpt, nd - decpt);
      o += nd - decpt;
    } else {
      std::memcpy(o, digits, nd);
      o += nd;
      for (int i = nd; i < decpt; ++i) *o++ = '0';
      *o++ = '.';
      *o++ = '0';
    }
    return static_cast<std::size_t>(o - out);
  }
  *o++ = digits[0];
  if (nd > 1) {
    *o++ = '.';
    std::memcpy(o, digits + 1, nd - 1);
    o += nd - 1;
  }
  *o++ = 'e';
  int e = decpt - 1;
  *o++ = e < 0 ? '-' : '+';
  if (e < 0) e = -e;
  if (e >= 100) *o++ = static_cast<char>('0' + e / 100);
  *o++ = static_cast<char>('0' + (e / 10) % 10);  // at least two exponent digits, as repr
  *o++ = static_cast<char>('0' + e % 10);
  return static_cast<std::size_t>(o - out);
}

}  // namespace fa::json
