// Tests for fa::json::format_double: Python repr layout and shortest round-trip digits.
#include "json/double_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

namespace fa::json {
namespace {

std::string fmt(double v) {
  char buf[kMaxDoubleChars];
  std::size_t n = format_double(v, buf);
  EXPECT_LE(n, kMaxDoubleChars);
  return std::string(buf, n);
}

struct Case {
  double value;
  const char* repr;  // what CPython 3.11's repr() prints
};

TEST(DoubleFormat, MatchesPythonRepr) {
  const Case cases[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1.0, "1.0"},
      {0.1, "0.1"},
      {-1.5, "-1.5"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {123456789012345.6, "123456789012345.6"},
      {1e-7, "1e-07"},
      {1e-4, "0.0001"},
      {1e-5, "1e-05"},
      {0.001, "0.001"},
      {5e-324, "5e-324"},
      {1e22, "1e+22"},
      {1e23, "1e+23"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {-2.2250738585072014e-308, "-2.2250738585072014e-308"},
      {9007199254740993.0, "9007199254740992.0"},
      {0.3, "0.3"},
      {2.0 / 3, "0.6666666666666666"},
      {100.0, "100.0"},
      {1.5e300, "1.5e+300"},
      {12345678.9, "12345678.9"},
      {9999999999999998.0, "9999999999999998.0"},
      {1e100, "1e+100"},
  };
  for (const Case& c : cases) EXPECT_EQ(fmt(c.value), c.repr) << c.repr;
}

TEST(DoubleFormat, RandomBitPatternsRoundTrip) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 200000; ++i) {
    std::uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) continue;
    std::string s = fmt(v);
    double back = std::strtod(s.c_str(), nullptr);
    ASSERT_EQ(std::memcmp(&back, &v, sizeof v), 0) << s;
    // Python's repr always carries a '.' or an exponent, so the text reads back as a float.
    ASSERT_NE(s.find_first_of(".e"), std::string::npos) << s;
  }
}

// Reference: std::to_chars's shortest digits, laid out by Python's rules (pystrtod.c).
std::string reference(double v) {
  char sci[64];
  char* end = std::to_chars(sci, sci + sizeof sci, std::fabs(v), std::chars_format::scientific).ptr;
  std::string s(sci, end);
  std::size_t e = s.find('e');
  std::string digits = s.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int decpt = std::stoi(s.substr(e + 1)) + 1;
  int nd = static_cast<int>(digits.size());
  std::string out = std::signbit(v) ? "-" : "";
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return out.append("0.").append(-decpt, '0').append(digits);
    if (decpt < nd) return out.append(digits, 0, decpt).append(".").append(digits, decpt);
    return out.append(digits).append(decpt - nd, '0').append(".0");
  }
  out.append(digits, 0, 1);
  if (nd > 1) out.append(".").append(digits, 1);
  char exp[16];
  std::snprintf(exp, sizeof exp, "e%c%02d", decpt - 1 < 0 ? '-' : '+', std::abs(decpt - 1));
  return out + exp;
}

TEST(DoubleFormat, ShortDecimalsMatchTheReference) {
  // Values with few fraction digits take the fast path; all must agree with the reference.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300000; ++i) {
    std::uint64_t mantissa = rng() % 1000000000000000ULL >> (rng() % 50);
    int k = static_cast<int>(rng() % 21);
    double v = static_cast<double>(mantissa) / std::pow(10.0, k);
    if (rng() & 1) v = -v;
    ASSERT_EQ(fmt(v), reference(v)) << mantissa << "e-" << k;
  }
}

TEST(DoubleFormat, ArithmeticResultsMatchTheReference) {
  // Sums and products carry 15-17 significant digits: the fast path must decline or agree.
  for (int i = 1; i < 20000; ++i) {
    const double values[] = {i * 0.01 * 1.1,
                             19.99 * i,
                             i / 7.0,
                             0.1 * i + 0.2,
                             i * 1e-4 / 3,
                             i * 1e11 + 0.5,
                             std::ldexp(1.0, i % 60 - 20),
                             1125899906842623.0 + i};
    for (double v : values) ASSERT_EQ(fmt(v), reference(v)) << v;
  }
}

TEST(DoubleFormat, RandomDoublesInTheFastRangeMatchTheReference) {
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> exponent(-4.5, 16.5);
  for (int i = 0; i < 300000; ++i) {
    double v = std::pow(10.0, exponent(rng));
    ASSERT_EQ(fmt(v), reference(v)) << v;
  }
}

TEST(DoubleFormat, NeighboursOfShortDecimalsMatchTheReference) {
  // A few ulps either side of a short decimal: the fast path's rounding and its check back
  // must not take a neighbour for the decimal (each has 16-17 digits of its own).
  std::mt19937_64 rng(2026);
  for (int i = 0; i < 200000; ++i) {
    double v =
        static_cast<double>(rng() % 100000000) / std::pow(10.0, static_cast<int>(rng() % 12));
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof v);
    bits += rng() % 7 - 3;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v) || v < 0) continue;
    ASSERT_EQ(fmt(v), reference(v)) << bits;
  }
  for (double v :
       {1e-4, std::nextafter(1e-4, 0.0), std::nextafter(1e-4, 1.0), 1125899906842624.0,
        std::nextafter(1125899906842624.0, 0.0), 0.00012345678901234, 4503599627370495.5})
    EXPECT_EQ(fmt(v), reference(v)) << v;
}

}  // namespace
}  // namespace fa::json
