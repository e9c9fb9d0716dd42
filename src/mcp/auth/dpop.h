// DPoP proofs (RFC 9449, OAuth 2.0 Demonstrating Proof of Possession; MCP SEP-1932): the
// client's key pair and the `DPoP` header value it sends with its token request and with every
// request that presents a DPoP-bound access token. ES256 on a P-256 key made by OpenSSL, the
// JWS signed by OpenSSL (EVP_DigestSign; only the DER signature's r and s are laid out as JWS
// wants them, RFC 7518 §3.4). libjwt is not used here: 1.10 forces `typ: JWT`, and a proof
// must say `typ: dpop+jwt`.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace fa::mcp::auth {

class DpopKey {
 public:
  // A new P-256 key pair. Throws std::runtime_error when OpenSSL cannot make one.
  static std::shared_ptr<DpopKey> generate();
  ~DpopKey();
  DpopKey(const DpopKey&) = delete;
  DpopKey& operator=(const DpopKey&) = delete;

  // The public key as a JWK ({"crv":"P-256","kty":"EC","x":...,"y":...}, RFC 7517/7518).
  const std::string& jwk() const { return jwk_; }
  // Its RFC 7638 SHA-256 thumbprint, base64url: what a bound token's cnf.jkt names.
  const std::string& thumbprint() const { return thumbprint_; }

  // A proof JWT for one HTTP request (RFC 9449 §4.2): header typ "dpop+jwt", alg ES256 and the
  // public jwk; claims jti (128 random bits), htm, htu (without query or fragment), iat, and
  // when given ath (base64url SHA-256 of the access token, §4.3) and the server's nonce (§8,
  // §9). `now` in seconds since the epoch; < 0: the clock. Throws std::runtime_error.
  std::string proof(std::string_view htm, std::string_view htu, std::string_view access_token = {},
                    std::string_view nonce = {}, int64_t now = -1) const;

 private:
  DpopKey() = default;
  EVP_PKEY* pkey_ = nullptr;  // owned
  std::string jwk_, thumbprint_;
};

// base64url without padding (RFC 4648 §5) of `bytes`.
std::string base64url_encode(std::string_view bytes);

}  // namespace fa::mcp::auth
