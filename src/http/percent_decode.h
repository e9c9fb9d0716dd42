// Percent-decoding of URI components (RFC 3986 §2.1).
#pragma once

#include <string>
#include <string_view>

namespace fa::http {

// Decodes %XX escapes into `out` (appended). With plus_as_space, '+' becomes ' ' (the
// application/x-www-form-urlencoded rule for query strings). A malformed escape is kept as is.
// Returns true if anything was decoded (so callers can skip a copy when nothing changes).
inline bool percent_decode(std::string_view in, std::string& out, bool plus_as_space = false) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(c | 0x20);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  bool changed = false;
  out.reserve(out.size() + in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        changed = true;
        continue;
      }
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
      changed = true;
      continue;
    }
    out.push_back(c);
  }
  return changed;
}

// True if `in` contains anything percent_decode would change.
inline bool needs_percent_decode(std::string_view in, bool plus_as_space = false) {
  for (char c : in)
    if (c == '%' || (plus_as_space && c == '+')) return true;
  return false;
}

}  // namespace fa::http
