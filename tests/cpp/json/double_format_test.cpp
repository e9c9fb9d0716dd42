// Tests for fa::json::format_double: Python repr layout and shortest round-trip digits.
#include "json/double_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
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

}  // namespace
}  // namespace fa::json
