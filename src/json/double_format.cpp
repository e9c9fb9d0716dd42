// Shortest round-trip double formatting in Python's repr layout (see double_format.h).
#include "json/double_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace fa::json {
namespace {

// Python switches to exponent notation when the position of the decimal point, counted as in
// 0.d1d2... x 10^decpt, is <= -4 or > 16 (CPython Python/pystrtod.c, format_float_short, 'r').
constexpr int kMinFixedDecpt = -3;
constexpr int kMaxFixedDecpt = 16;

// Exact powers of ten: every 10^k with k <= 22 is a double.
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr int kMaxPow10 = 22;

// The fast path scales v by 10^K with v * 10^K < 2^50. Then ulp(v) * 10^K <= 1/8 and the
// product's rounding error is <= 1/8, so rounding v * 10^K lands exactly on the shortest
// round-trip decimal (scaled) whenever that decimal has at most K fraction digits: the shortest
// is within ulp(v)/2 of v, and two candidates 10^-K apart cannot both be. The result is
// verified by converting back, so a miss only costs the slow path.
constexpr double kFastScaledLimit = 1125899906842624.0;  // 2^50
constexpr double kFastMin = 1e-4;                         // below: exponent layout, slow path

// Digits of |v| (no sign), the decimal point position decpt as in 0.d1d2... x 10^decpt, and
// the digit count; trailing zeros are not significant and are dropped.
struct Decimal {
  char digits[24];
  int nd;
  int decpt;
};

// Finds the shortest digits of av in [kFastMin, 2^50) that round-trip, if they have few enough
// fraction digits; returns false when the slow path must decide.
bool shortest_fast(double av, Decimal& d) noexcept {
  if (!(av >= kFastMin && av < kFastScaledLimit)) return false;
  int e2;
  std::frexp(av, &e2);  // av < 2^e2
  int k = ((50 - e2) * 78913) >> 18;  // floor((50 - e2) * log10(2)), so av * 10^k < 2^50
  if (k > kMaxPow10) k = kMaxPow10;
  if (k < 0) k = 0;
  double scaled = std::nearbyint(av * kPow10[k]);
  if (!(scaled < kFastScaledLimit)) return false;
  auto m = static_cast<std::uint64_t>(scaled);
  if (m == 0) return false;
  while (k > 0 && m % 10 == 0) {
    m /= 10;
    --k;
  }
  if (static_cast<double>(m) / kPow10[k] != av) return false;  // exact division, then compare
  char* end = std::to_chars(d.digits, d.digits + sizeof d.digits, m).ptr;
  d.nd = static_cast<int>(end - d.digits);
  d.decpt = d.nd - k;
  while (d.nd > 1 && d.digits[d.nd - 1] == '0') --d.nd;
  return true;
}

// std::to_chars without precision yields the shortest digits that round-trip, nearest to the
// exact value, i.e. the same digits as Python's dtoa mode 0.
void shortest_slow(double av, Decimal& d) noexcept {
  char sci[kMaxDoubleChars];
  auto res = std::to_chars(sci, sci + sizeof sci, av, std::chars_format::scientific);
  const char* p = sci;
  const char* end = res.ptr;
  d.nd = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') d.digits[d.nd++] = *p;
    ++p;
  }
  ++p;  // 'e'
  bool neg_exp = *p == '-';
  ++p;  // sign
  int exp10 = 0;
  while (p < end) exp10 = exp10 * 10 + (*p++ - '0');
  d.decpt = (neg_exp ? -exp10 : exp10) + 1;
}

}  // namespace

std::size_t format_double(double v, char* out) noexcept {
  char* o = out;
  if (std::signbit(v)) *o++ = '-';
  double av = std::fabs(v);
  Decimal dec;
  if (!shortest_fast(av, dec)) shortest_slow(av, dec);
  const char* digits = dec.digits;
  const int nd = dec.nd;
  const int decpt = dec.decpt;

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
