// The JWS algorithm table (RFC 7518 §3.1), limited to what libjwt 1.10 verifies.
#include "mcp/auth/algorithm.h"

#include <array>

namespace fa::mcp::auth {
namespace {

constexpr std::array<Algorithm, 9> kAlgorithms{{
    {"HS256", JWT_ALG_HS256, KeyType::kSecret, "", 32},
    {"HS384", JWT_ALG_HS384, KeyType::kSecret, "", 48},
    {"HS512", JWT_ALG_HS512, KeyType::kSecret, "", 64},
    {"RS256", JWT_ALG_RS256, KeyType::kRsa, "", 0},
    {"RS384", JWT_ALG_RS384, KeyType::kRsa, "", 0},
    {"RS512", JWT_ALG_RS512, KeyType::kRsa, "", 0},
    {"ES256", JWT_ALG_ES256, KeyType::kEc, "P-256", 0},
    {"ES384", JWT_ALG_ES384, KeyType::kEc, "P-384", 0},
    {"ES512", JWT_ALG_ES512, KeyType::kEc, "P-521", 0},
}};

}  // namespace

const Algorithm* find_algorithm(std::string_view name) noexcept {
  for (const Algorithm& a : kAlgorithms) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace fa::mcp::auth
