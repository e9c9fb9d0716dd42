// Random JSON text for the differential tests of the scanners in src/mcp/client/json_scan.h:
// values nested a few levels, strings full of what a scanner could mistake for structure
// (quotes and backslashes escaped, brackets, commas, colons, the member names the proxy drops),
// runs of backslashes and escapes falling on every offset of a 16-byte block, multi-byte UTF-8,
// and optional whitespace. Deterministic for a seed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace fa::mcp::testing {

class JsonGen {
 public:
  explicit JsonGen(uint32_t seed) : rng_(seed) {}

  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  // Whitespace, or nothing (most of the time: compact text is the common case).
  std::string ws() {
    if (!spaced_ || below(3)) return "";
    static const char* const kWs[] = {" ", "\n", "\t ", "\r\n  "};
    return kWs[below(4)];
  }
  void spaced(bool on) { spaced_ = on; }

  std::string string() {
    static const char* const kPieces[] = {"a",
                                          "text",
                                          "resultType",
                                          "ttlMs",
                                          "cacheScope",
                                          "\\\"",
                                          "\\\\",
                                          "\\\\\\\"",
                                          "\\u0041",
                                          "\\n",
                                          "{",
                                          "}",
                                          "[",
                                          "]",
                                          ",",
                                          ":",
                                          "\\/",
                                          "\xc3\xa9",
                                          "\xe2\x82\xac",
                                          " ",
                                          "\\\\\\\\",
                                          "\\u00e9",
                                          "\"}",
                                          "x\\\\"};
    std::string s = "\"";
    // Padding first so that what follows lands on every offset of a 16-byte block.
    s.append(static_cast<size_t>(below(18)), 'p');
    for (int n = below(6); n > 0; --n) {
      std::string piece = kPieces[below(static_cast<int>(std::size(kPieces)))];
      if (piece == "\"}") piece = "\\\"}";  // an escaped quote before a brace
      s += piece;
    }
    return s + "\"";
  }

  std::string scalar() {
    switch (below(6)) {
      case 0:
        return "true";
      case 1:
        return "false";
      case 2:
        return "null";
      case 3:
        return std::to_string(below(100000) - 500);
      case 4:
        return "-1.5e3";
      default:
        return string();
    }
  }

  std::string value(int depth) {
    int kind = depth > 0 ? below(4) : 3;
    if (kind == 0) return object(depth - 1, {});
    if (kind == 1) {
      std::string s = "[" + ws();
      for (int n = below(4), i = 0; i < n; ++i)
        s += (i ? "," + ws() : "") + value(depth - 1) + ws();
      return s + "]";
    }
    return scalar();
  }

  // An object with `names` as members first (shuffled in among random ones).
  std::string object(int depth, std::vector<std::string> names) {
    static const char* const kKeys[] = {"content", "resultType", "ttlMs", "isError", "a", "k"};
    for (int n = below(4); n > 0; --n) names.push_back(kKeys[below(6)]);
    std::shuffle(names.begin(), names.end(), rng_);
    std::string s = "{" + ws();
    for (size_t i = 0; i < names.size(); ++i) {
      if (i) s += "," + ws();
      s += "\"" + names[i] + "\"" + ws() + ":" + ws() + value(depth) + ws();
    }
    return s + "}";
  }

 private:
  std::mt19937 rng_;
  bool spaced_ = true;
};

}  // namespace fa::mcp::testing
