// Coding: the content codings the engine can apply (RFC 9110 §8.4.1) and sets of them.
#pragma once

#include <cstdint>
#include <string_view>

namespace fa::compress {

enum class Coding : uint8_t { kIdentity = 0, kGzip = 1, kBrotli = 2, kZstd = 3 };

// A set of codings as a bitmask (bit = 1 << coding).
class CodingSet {
 public:
  constexpr CodingSet() = default;
  static constexpr CodingSet all() {
    return CodingSet().with(Coding::kGzip).with(Coding::kBrotli).with(Coding::kZstd);
  }
  constexpr CodingSet with(Coding c) const { return CodingSet(bits_ | bit(c)); }
  constexpr bool has(Coding c) const { return (bits_ & bit(c)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const CodingSet&) const = default;

 private:
  constexpr explicit CodingSet(uint8_t bits) : bits_(bits) {}
  static constexpr uint8_t bit(Coding c) {
    return static_cast<uint8_t>(1u << static_cast<unsigned>(c));
  }
  uint8_t bits_ = 0;
};

// The token for Content-Encoding ("gzip", "br", "zstd"; "identity" for none).
constexpr std::string_view coding_name(Coding c) {
  switch (c) {
    case Coding::kGzip:
      return "gzip";
    case Coding::kBrotli:
      return "br";
    case Coding::kZstd:
      return "zstd";
    case Coding::kIdentity:
      break;
  }
  return "identity";
}

// The coding a token names (case-insensitive; "x-gzip" is gzip, RFC 9110 §8.4.1.3);
// false if the engine has no such coding.
bool coding_from_name(std::string_view name, Coding& out);

}  // namespace fa::compress
