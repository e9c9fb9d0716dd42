// Named-parameter lookup in a raw query string, without building a mapping of every pair.
#pragma once

#include <string>
#include <string_view>

#include "http/percent_decode.h"

namespace fa::http {

// Calls fn(raw_value) for each `name=value` pair of the query whose name, once decoded, equals
// `name`, in order (so the last call is the last value). The rules are those of
// application/x-www-form-urlencoded as Python's parse_qsl(keep_blank_values=True) applies them
// (WHATWG URL §5.1, "application/x-www-form-urlencoded parsing"): pairs split on '&', empty
// pieces skipped, a piece without '=' is a name with an empty value, '+' is a space and %XX
// escapes are decoded in the name. The value is passed raw (still encoded): decoding it is
// the caller's choice, and only the value it keeps needs it.
template <class Fn>
void for_each_query_value(std::string_view query, std::string_view name, Fn&& fn) {
  std::string decoded;  // a name with escapes, decoded (rare: most names are plain)
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view key = piece.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
    if (needs_percent_decode(key, true)) {
      decoded.clear();
      percent_decode(key, decoded, true);
      if (decoded != name) continue;
    } else if (key != name) {
      continue;
    }
    fn(value);
  }
}

// True when every byte is ASCII: then decoding as Latin-1 and then the escapes as UTF-8 (what
// Python does with a query string) equals decoding the escapes first and the bytes as UTF-8.
inline bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

}  // namespace fa::http
