// HttpAuth: bearer verification and its HTTP refusals.
#include "mcp/http_auth.h"

#include "mcp/auth/bearer.h"
#include "mcp/jsonrpc.h"

namespace fa::mcp {

bool HttpAuth::check(std::string_view authorization, std::int64_t now, std::string& claims,
                     Refusal& refusal) const {
  auth::Checked<auth::Claims> verified = verifier->verify_authorization(authorization, now);
  if (verified.ok()) {
    claims = std::move(verified.value().json);
    return true;
  }
  const auth::AuthFailure& failure = verified.failure();
  const bool missing = failure.kind == auth::AuthError::kMissingToken;
  refusal.status = auth::http_status(failure.kind);
  // §3.1: a request without credentials gets a challenge with no error code.
  refusal.headers = "WWW-Authenticate: " +
                    auth::www_authenticate(missing ? nullptr : &failure, metadata_url, scope) +
                    "\r\n";
  refusal.body.clear();
  encode_error(refusal.body, {}, kInvalidRequest,
               missing ? std::string("Unauthorized: a bearer token is required")
                       : "Unauthorized: " + failure.description);
  return false;
}

}  // namespace fa::mcp
