// JwtVerifier: checks a bearer JWT (RFC 7519, JWS compact form RFC 7515 §7.1) as an MCP
// resource server must: signature via libjwt, alg allow-list, exp/nbf, iss, aud, scopes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "mcp/auth/algorithm.h"
#include "mcp/auth/auth_error.h"
#include "mcp/auth/claims.h"
#include "mcp/auth/key_cache.h"
#include "mcp/auth/verified_cache.h"
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
  // Chooses the key for (alg, kid), refreshing the keys once for an unknown kid, and checks
  // the signature with libjwt.
  std::optional<AuthFailure> check_key_and_signature(std::string_view token, const Algorithm& alg,
                                                     std::string_view kid, std::int64_t now) const;

  VerifierConfig config_;
  std::shared_ptr<KeyCache> keys_;
  std::unique_ptr<VerifiedCache> verified_;  // behind a pointer: it holds a mutex
};

}  // namespace fa::mcp::auth
