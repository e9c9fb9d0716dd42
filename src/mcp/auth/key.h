// A verification key: an HMAC secret or an RSA/EC public key, typed so that a key is only
// ever used with the algorithms of its type (no RSA key used as an HMAC secret).
#pragma once

#include <string>
#include <string_view>

#include "mcp/auth/algorithm.h"

namespace fa::mcp::auth {

struct Key {
  std::string kid;  // "" when the key has no id
  KeyType type = KeyType::kSecret;
  std::string curve;     // EC: "P-256", "P-384" or "P-521"
  int bits = 0;          // RSA: modulus size
  std::string alg;       // the JWK's "alg" when given: the only algorithm it may verify
  std::string material;  // kSecret: the secret bytes; else SubjectPublicKeyInfo PEM for libjwt
};

// Whether `key` may verify `alg`; if not and `why` is set, says why.
bool key_fits(const Key& key, const Algorithm& alg, std::string* why = nullptr);

// A public key from PEM text: "PUBLIC KEY", "RSA PUBLIC KEY" or a "CERTIFICATE".
// Throws std::invalid_argument if it is none of these, not RSA/EC, or RSA under 2048 bits.
Key key_from_pem(std::string_view pem, std::string kid = {});

// An HMAC secret. Throws std::invalid_argument if it is empty or is PEM text (a public key
// configured as a secret is the algorithm-confusion mistake).
Key key_from_secret(std::string_view secret, std::string kid = {});

// RSA public key from a JWK's n and e (RFC 7518 §6.3.1), big-endian bytes. Throws
// std::invalid_argument if OpenSSL refuses them or the modulus is under 2048 bits.
Key rsa_key_from_components(std::string_view n, std::string_view e, std::string kid = {});

// EC public key from a JWK's crv, x and y (RFC 7518 §6.2.1). Throws std::invalid_argument
// for an unknown curve, coordinates of the wrong length, or a point not on the curve.
Key ec_key_from_coordinates(std::string_view crv, std::string_view x, std::string_view y,
                            std::string kid = {});

}  // namespace fa::mcp::auth
