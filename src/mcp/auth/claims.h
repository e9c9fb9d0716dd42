// The claims of a JWT access token (RFC 7519 §4.1, RFC 9068 §2.2) and their validation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/auth/auth_error.h"
#include "mcp/auth/verifier_config.h"

namespace fa::mcp::auth {

struct Claims {
  std::string json;  // the whole claims set as the token carried it (a JSON object)
  std::string issuer, subject, client_id;
  std::vector<std::string> audiences;  // aud as a list, whether it came as a string or array
  std::vector<std::string> scopes;     // "scope" split on spaces, or "scp"
  std::optional<double> expires_at;    // exp, NumericDate seconds (may be fractional)
  std::optional<double> not_before;    // nbf
};

// Reads the registered claims from the JSON text of a JWT payload. kMalformed if it is not a
// JSON object, repeats a claim name (RFC 7519 §4), or a registered claim has the wrong type.
Checked<Claims> parse_claims(std::string_view json);

// Checks exp, nbf, iss, aud and the required scopes at `now` (unix seconds). Returns the first
// failure, or nullopt when the claims are acceptable.
std::optional<AuthFailure> validate_claims(const Claims& claims, const VerifierConfig& config,
                                           std::int64_t now);

// kInsufficientScope naming the scopes of `required` the claims lack, or nullopt. For
// per-operation checks on top of VerifierConfig::required_scopes.
std::optional<AuthFailure> check_scopes(const Claims& claims,
                                        std::span<const std::string> required);

// Whether aud value `aud` names `resource`: equal bytes, or equal once the scheme and host are
// lower-cased (MCP: servers SHOULD accept upper-case scheme and host). Constant time per length.
bool audience_matches(std::string_view aud, std::string_view resource);

// Equality of two strings in time that depends only on their lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace fa::mcp::auth
