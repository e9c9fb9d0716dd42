// What a JwtVerifier accepts: issuer, audience (this resource), algorithms, scopes, leeway.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace fa::mcp::auth {

struct VerifierConfig {
  // iss must equal this exactly (RFC 9068 §4; RFC 7519 §4.1.1). Required.
  std::string issuer;
  // aud must name one of these: this server's canonical resource URI (RFC 8707 §2, MCP
  // "Token Audience Binding"). Scheme and host compare case-insensitively. Required.
  std::vector<std::string> audiences;
  // The allow-list, e.g. {"RS256"}. "none" is never accepted; each token's alg must also fit
  // its key's type (RFC 8725 §3.1, §3.2).
  std::vector<std::string> algorithms;
  // Scopes every token must carry ("scope" claim, RFC 9068 §2.2.3; or "scp").
  std::vector<std::string> required_scopes;
  // Clock skew tolerated on exp and nbf (RFC 7519 §4.1.4: "some small leeway"): 30 seconds.
  std::chrono::seconds leeway{30};
  // Refuse tokens without exp (RFC 9068 §2.2 makes exp REQUIRED for access tokens).
  bool require_exp = true;
  // A token whose signature verified is not verified again for this long (VerifiedCache);
  // exp, nbf, iss, aud and scopes are still checked every time. 0 disables: 60 seconds.
  std::chrono::seconds verified_cache_ttl{60};
};

}  // namespace fa::mcp::auth
