// Decimal formatting of machine integers, as Python's int.__repr__ writes them.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>

namespace fa::json {

// Longest decimal int64/uint64: "-9223372036854775808" is 20 characters.
inline constexpr std::size_t kMaxIntChars = 20;

// Writes v in decimal at out (room for kMaxIntChars); returns the end of what was written.
inline char* format_int(std::int64_t v, char* out) noexcept {
  return std::to_chars(out, out + kMaxIntChars, v).ptr;
}
inline char* format_uint(std::uint64_t v, char* out) noexcept {
  return std::to_chars(out, out + kMaxIntChars, v).ptr;
}

}  // namespace fa::json
