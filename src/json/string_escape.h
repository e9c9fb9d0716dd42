// JSON string escaping of UTF-8 text, byte-for-byte as json.dumps(..., ensure_ascii=False).
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

#include "json/output_buffer.h"

namespace fa::json {

// Returns the first byte in [p, end) that JSON needs escaped ('"', '\\' or a byte < 0x20),
// or end. Bytes >= 0x80 pass through: the output stays UTF-8 (RFC 8259 section 7).
const char* find_escape(const char* p, const char* end) noexcept;

// Appends utf8 as a quoted JSON string. Escapes as CPython's json encoder does:
// \" \\ \b \f \n \r \t, other control characters as \u00XX (lowercase hex). Input must be
// valid UTF-8; it is not checked here.
void append_json_string(OutputBuffer& out, std::string_view utf8);

// Same output as append_json_string; inlines the common case of nothing to escape.
FA_JSON_INLINE void append_json_string_fast(OutputBuffer& out, std::string_view utf8) {
  const std::size_t n = utf8.size();
  if (find_escape(utf8.data(), utf8.data() + n) != utf8.data() + n) {
    append_json_string(out, utf8);
    return;
  }
  char* w = out.ensure(n + 2);
  w[0] = '"';
  std::memcpy(w + 1, utf8.data(), n);
  w[n + 1] = '"';
  out.advance(n + 2);
}

}  // namespace fa::json
