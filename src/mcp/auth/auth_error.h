// Why a bearer token was refused, and how HTTP answers each reason (RFC 6750 §3.1).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace fa::mcp::auth {

enum class AuthError {
  kMissingToken,          // no Authorization: Bearer header: 401 without an error code (§3.1)
  kInvalidRequest,        // the header is not "Bearer <token68>": 400 invalid_request
  kMalformed,             // not a compact JWS with JSON header and claims: 401 invalid_token
  kUnsupportedAlgorithm,  // alg not allowed, "none", or not the key's algorithm: 401
  kUnknownKey,            // no key with the token's kid: 401
  kBadSignature,          // signature does not verify: 401
  kExpired,               // now >= exp + leeway (RFC 7519 §4.1.4): 401
  kNotYetValid,           // now + leeway < nbf (RFC 7519 §4.1.5): 401
  kMissingClaim,          // a required claim (exp) is absent: 401
  kWrongIssuer,           // iss is not the configured issuer: 401
  kWrongAudience,         // aud does not name this resource (RFC 8707 §2): 401
  kInsufficientScope,     // a required scope is missing: 403 insufficient_scope
};

// The stable lower-case name of an error ("expired", "wrong_audience", ...).
std::string_view error_name(AuthError e) noexcept;
// The HTTP status to answer with: 400, 401 or 403.
int http_status(AuthError e) noexcept;
// The RFC 6750 §3.1 error code, or "" for kMissingToken (no code when no credentials came).
std::string_view oauth_error_code(AuthError e) noexcept;

// A refusal: its kind and a readable reason (safe to send as error_description).
struct AuthFailure {
  AuthError kind;
  std::string description;
};

// A value or the reason there is none.
template <typename T>
class Checked {
 public:
  Checked(T value) : value_(std::move(value)), ok_(true) {}       // NOLINT: implicit on purpose
  Checked(AuthFailure f) : failure_(std::move(f)), ok_(false) {}  // NOLINT
  bool ok() const noexcept { return ok_; }
  T& value() noexcept { return value_; }
  const T& value() const noexcept { return value_; }
  const AuthFailure& failure() const noexcept { return failure_; }

 private:
  T value_{};
  AuthFailure failure_{AuthError::kMalformed, {}};
  bool ok_;
};

inline AuthFailure fail(AuthError kind, std::string description) {
  return AuthFailure{kind, std::move(description)};
}

}  // namespace fa::mcp::auth
