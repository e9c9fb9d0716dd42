// Names, HTTP statuses and RFC 6750 error codes of AuthError.
#include "mcp/auth/auth_error.h"

namespace fa::mcp::auth {

std::string_view error_name(AuthError e) noexcept {
  switch (e) {
    case AuthError::kMissingToken:
      return "missing_token";
    case AuthError::kInvalidRequest:
      return "invalid_request";
    case AuthError::kMalformed:
      return "malformed";
    case AuthError::kUnsupportedAlgorithm:
      return "unsupported_algorithm";
    case AuthError::kUnknownKey:
      return "unknown_key";
    case AuthError::kBadSignature:
      return "bad_signature";
    case AuthError::kExpired:
      return "expired";
    case AuthError::kNotYetValid:
      return "not_yet_valid";
    case AuthError::kMissingClaim:
      return "missing_claim";
    case AuthError::kWrongIssuer:
      return "wrong_issuer";
    case AuthError::kWrongAudience:
      return "wrong_audience";
    case AuthError::kInsufficientScope:
      return "insufficient_scope";
  }
  return "malformed";
}

int http_status(AuthError e) noexcept {
  switch (e) {
    case AuthError::kInvalidRequest:
      return 400;
    case AuthError::kInsufficientScope:
      return 403;
    default:
      return 401;
  }
}

std::string_view oauth_error_code(AuthError e) noexcept {
  switch (e) {
    case AuthError::kMissingToken:
      return "";
    case AuthError::kInvalidRequest:
      return "invalid_request";
    case AuthError::kInsufficientScope:
      return "insufficient_scope";
    default:
      return "invalid_token";
  }
}

}  // namespace fa::mcp::auth
