// Shortest round-trip double formatting in Python's repr layout (see double_format.h).
#include "json/double_format.h"

#include <array>
#include <bit>
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

// The fast path tries k = 0, 1, 2, ... fraction digits while v * 10^k < 2^50. Then
// ulp(v) * 10^k <= 1/8 and the product's rounding error is <= 1/8, so rounding v * 10^k lands
// exactly on the k-digit decimal that round-trips (scaled), whenever there is one: it is within
// ulp(v)/2 of v, and two candidates 10^-k apart cannot both be. Each candidate is verified by
// converting back; the first k that round-trips has the fewest significant digits (any later
// candidate has more, and two round-tripping candidates of one length would be closer than an
// ulp), which is repr's shortest; it has no trailing zero (else k - 1 would have matched).
// A miss only costs the slow path.
constexpr double kFastScaledLimit = 1125899906842624.0;  // 2^50
constexpr double kRoundMagic = 4503599627370496.0;       // 2^52: x + 2^52 - 2^52 rounds x < 2^52
constexpr double kFastMin = 1e-4;  // [1e-4, 2^50): repr's fixed layout (decpt in [-3, 16])

// 10^0 .. 10^19 (all that fit in 64 bits): av >= 1e-4 and m = av * 10^k < 2^50 give k <= 19.
constexpr auto kPow10Int = [] {
  std::array<std::uint64_t, 20> p{};
  p[0] = 1;
  for (std::size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
  return p;
}();
constexpr int kMaxFastDigits = 16;  // the integer part of m < 2^50 has at most 16 digits

// "00" "01" ... "99": two digits per division.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Writes exactly n decimal digits of v (zero-padded on the left; v < 10^n) ending at end.
inline void put_digits(std::uint64_t v, char* end, int n) noexcept {
  while (n >= 2) {
    const auto pair = static_cast<unsigned>(v % 100) * 2;
    v /= 100;
    end -= 2;
    end[0] = kDigitPairs[pair];
    end[1] = kDigitPairs[pair + 1];
    n -= 2;
  }
  if (n) *--end = static_cast<char>('0' + v);
}

// The number of decimal digits of v >= 1.
inline int digit_count(std::uint64_t v) noexcept {
  int n = 1;
  while (n < kMaxFastDigits && v >= kPow10Int[n]) ++n;
  return n;
}

// Writes av in [kFastMin, 2^50) as repr does (fixed layout) at out when its shortest digits
// have few enough fraction digits; returns the end of the output, or nullptr for the slow path.
char* fixed_fast(double av, char* out) noexcept {
  if (!(av >= kFastMin && av < kFastScaledLimit)) return nullptr;
  // av is normal here: av < 2^e2 with e2 its biased exponent - 1022 (frexp's exponent).
  const int e2 = static_cast<int>(std::bit_cast<std::uint64_t>(av) >> 52) - 1022;
  int kmax = ((50 - e2) * 78913) >> 18;  // floor((50 - e2) * log10(2)), so av * 10^k < 2^50
  if (kmax > kMaxPow10) kmax = kMaxPow10;
  for (int k = 0; k <= kmax; ++k) {
    // Round to nearest (even, the default mode) without a libm call: exact below 2^52.
    const double scaled = (av * kPow10[k] + kRoundMagic) - kRoundMagic;
    if (scaled / kPow10[k] != av) continue;  // an exact division, then compare
    const auto m = static_cast<std::uint64_t>(scaled);
    if (k >= static_cast<int>(kPow10Int.size())) return nullptr;  // never: see kPow10Int
    const std::uint64_t unit = kPow10Int[k];
    const std::uint64_t ip = m / unit;  // integer part, then k fraction digits
    const int n = ip ? digit_count(ip) : 1;
    put_digits(ip, out + n, n);
    out += n;
    *out++ = '.';
    if (k == 0) {
      *out++ = '0';  // "1000.0", as repr
      return out;
    }
    put_digits(m - ip * unit, out + k, k);
    return out + k;
  }
  return nullptr;
}

// Digits of |v| (no sign), the decimal point position decpt as in 0.d1d2... x 10^decpt, and
// the digit count; trailing zeros are not significant and are dropped.
struct Decimal {
  char digits[24];
  int nd;
  int decpt;
};

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
  if (char* end = fixed_fast(av, o)) return static_cast<std::size_t>(end - out);
  Decimal dec;
  shortest_slow(av, dec);
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
