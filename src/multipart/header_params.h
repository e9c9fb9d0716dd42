// Parameters of a structured header value: `form-data; name="a"; filename*=UTF-8''x%20y`.
//
// Used for the part headers of multipart/form-data (RFC 7578 §4.2 Content-Disposition, §4.4
// Content-Type) and for the request's own Content-Type (the boundary, RFC 2046 §5.1.1).
// Values may be tokens or quoted-strings (RFC 9110 §5.6.4, backslash escapes undone);
// `name*` parameters use the RFC 8187 ext-value encoding and win over the plain form.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fa::multipart {

struct HeaderValue {
  std::string_view main;  // the part before the first ';', trimmed, e.g. "form-data"
  // (lower-cased name without a trailing '*', decoded value); a `name*` parameter replaces
  // an earlier or later `name` one.
  std::vector<std::pair<std::string, std::string>> params;

  // The decoded value of `name` (lower case), or nullopt.
  const std::string* param(std::string_view name) const;
};

// Parses `value`. Malformed parameters (no '=', unterminated quote) are skipped, not fatal:
// browsers differ and a lost parameter surfaces as a missing field later.
HeaderValue parse_header_value(std::string_view value);

// The boundary of a `multipart/form-data; boundary=...` Content-Type, or nullopt when the
// type is not multipart/form-data or the boundary is missing or invalid (RFC 2046 §5.1.1:
// 1 to 70 characters, no CR or LF).
std::optional<std::string> boundary_from_content_type(std::string_view content_type);

}  // namespace fa::multipart
