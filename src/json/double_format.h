// Shortest round-trip formatting of doubles, laid out exactly as Python's float.__repr__.
#pragma once

#include <cstddef>

namespace fa::json {

// Longest output: "-2.2250738585072014e-308" is 24 characters; 32 leaves margin.
inline constexpr std::size_t kMaxDoubleChars = 32;

// Writes finite v at out (room for kMaxDoubleChars) as repr(v) would: the shortest digits that
// round-trip, fixed notation when the decimal exponent is in [-4, 16), else "d.ddde+XX".
// Returns the number of characters written. v must be finite (NaN/inf are the caller's error).
std::size_t format_double(double v, char* out) noexcept;

}  // namespace fa::json
