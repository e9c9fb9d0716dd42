// JwtVerifier: checks a bearer JWT (RFC 7519, JWS compact form RFC 7515 §7.1) as an MCP
// resource server must: signature via libjwt, alg allow-list, exp/nbf, iss, aud, scopes.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "mcp/auth/auth_error.h"
#include "mcp/auth/claims.h"
#include "mcp/auth/key_cache.h"
#include "mcp/auth/verifier_config.h"

namespace fa::mcp::auth {

// Tokens longer than this are refused before any parsing: 16 KiB. Access tokens are a few
// KiB at most, and libjwt 1.10 copies segments onto the stack.
inline constexpr std::size_t kMaxTokenBytes = 16 * 1024;

class JwtVerifier {
 public:
  // Throws std::invalid_argument for an unusable configuration: no issuer, no audience, no
  // algorithms, or an algorithm that is "none" or unknown.
  JwtVerifier(VerifierConfig config, std::shared_ptr<KeyCache> keys);

  // The claims of `token` if it passes every check at `now` (unix seconds); else why not.
  Checked<Claims> verify(std::string_view token, std::int64_t now) const;
  // As verify(token, now) at the system clock's time.
  Checked<Claims> verify(std::string_view token) const;
  // Takes the token from an Authorization header value ("" when absent; RFC 6750 §2.1).
  Checked<Claims> verify_authorization(std::string_view header, std::int64_t now) const;

  const VerifierConfig& config() const noexcept { return config_; }
  KeyCache& keys() const noexcept { return *keys_; }

 private:
  VerifierConfig config_;
  std::shared_ptr<KeyCache> keys_;
};

}  // namespace fa::mcp::auth
