// The JWS algorithms we verify (RFC 7518 §3.1) and the key each one needs.
#pragma once

#include <jwt.h>

#include <cstddef>
#include <string_view>

namespace fa::mcp::auth {

enum class KeyType { kSecret, kRsa, kEc };

struct Algorithm {
  std::string_view name;   // as in the JOSE header, case-sensitive (RFC 7515 §4.1.1)
  jwt_alg_t id;            // libjwt's code for it
  KeyType key_type;        // HS*: shared secret, RS*: RSA, ES*: EC
  std::string_view curve;  // ES*: the only curve allowed (RFC 7518 §3.4); else ""
  std::size_t min_secret;  // HS*: bytes, at least the hash size (RFC 7518 §3.2); else 0
};

// The algorithm named exactly `name`, or nullptr ("none" and unknown names have none).
const Algorithm* find_algorithm(std::string_view name) noexcept;

// RSA moduli below this are refused (RFC 7518 §3.3: 2048 bits or larger MUST be used).
inline constexpr int kMinRsaBits = 2048;

}  // namespace fa::mcp::auth
