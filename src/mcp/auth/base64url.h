// base64url without padding (RFC 7515 §2, RFC 4648 §5), as JWS and JWK use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fa::mcp::auth {

// Whether every byte of s is in the base64url alphabet [A-Za-z0-9_-] (no '=' padding).
bool is_base64url(std::string_view s) noexcept;

// Decodes unpadded base64url; nullopt on a byte outside the alphabet or an impossible length.
std::optional<std::string> base64url_decode(std::string_view s);

}  // namespace fa::mcp::auth
