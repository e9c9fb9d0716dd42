// HttpAuth: the resource-server side of MCP authorization on Streamable HTTP (2025-11-25
// basic/authorization.mdx): every request's bearer token verified before dispatch, refusals
// answered 401/403 with a WWW-Authenticate challenge naming the Protected Resource Metadata
// (RFC 6750 §3, RFC 9728 §5.1), and that metadata document itself (RFC 9728 §3). No I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mcp/auth/jwt_verifier.h"

namespace fa::mcp {

struct HttpAuth {
  std::shared_ptr<const auth::JwtVerifier> verifier;
  std::string metadata_url;   // absolute URL of the metadata document (the challenge names it)
  std::string metadata_path;  // where it is served, "/.well-known/oauth-protected-resource/mcp"
  std::string metadata_json;  // the document (auth::render_resource_metadata)
  std::string scope;          // space-separated scopes named in challenges ("" for none)

  // A refusal to send instead of serving the request.
  struct Refusal {
    int status = 401;
    std::string headers;  // "WWW-Authenticate: ...\r\n"
    std::string body;     // a JSON-RPC error object for clients that read bodies
  };
  // Verifies the Authorization header value at `now` (unix seconds): the claims' JSON in
  // `claims` and true, or false with `refusal` filled.
  bool check(std::string_view authorization, std::int64_t now, std::string& claims,
             Refusal& refusal) const;
};

}  // namespace fa::mcp
