// Bearer tokens in HTTP: reading the Authorization header (RFC 6750 §2.1) and writing the
// WWW-Authenticate challenge (RFC 6750 §3, RFC 9728 §5.1).
#pragma once

#include <string>
#include <string_view>

#include "mcp/auth/auth_error.h"

namespace fa::mcp::auth {

// The token of "Bearer <b64token>" (scheme case-insensitive, RFC 9110 §11.1). kMissingToken
// when the header is empty or another scheme; kInvalidRequest when the token is empty or
// has characters outside b64token.
Checked<std::string_view> bearer_token(std::string_view authorization);

// The WWW-Authenticate value for a refusal, e.g.
//   Bearer resource_metadata="https://x/.well-known/oauth-protected-resource",
//   error="invalid_token", error_description="the token has expired"
// `failure` null: the challenge for a request without credentials (no error, §3.1).
// `scope` (space-separated) is added when not empty: MCP servers SHOULD name the scopes
// needed, and MUST for insufficient_scope. Characters RFC 6750 §3 forbids in a value are
// replaced with '?'.
std::string www_authenticate(const AuthFailure* failure, std::string_view resource_metadata_url,
                             std::string_view scope = {});

}  // namespace fa::mcp::auth
