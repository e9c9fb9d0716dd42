// JWK Set parsing (RFC 7517 §4-5, RFC 7518 §6) into typed keys.
#include <simdjson.h>

#include <stdexcept>
#include <string>

#include "mcp/auth/base64url.h"
#include "mcp/auth/key_set.h"

namespace fa::mcp::auth {
namespace {

namespace dom = simdjson::dom;

// A JWKS served by an authorization server is small; anything past this is refused.
constexpr std::size_t kMaxJwksBytes = 1024 * 1024;  // 1 MiB

// The string member `name`, or "" if absent or not a string.
std::string_view member(dom::object obj, const char* name) {
  std::string_view s;
  if (obj[name].get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}

// A base64url member decoded; throws std::invalid_argument naming it when absent or bad.
std::string b64_member(dom::object obj, const char* name) {
  auto decoded = base64url_decode(member(obj, name));
  if (!decoded || decoded->empty()) {
    throw std::invalid_argument(std::string("member \"") + name + "\" missing or not base64url");
  }
  return *std::move(decoded);
}

// Whether the JWK may verify signatures (RFC 7517 §4.2 use, §4.3 key_ops).
bool for_signatures(dom::object jwk) {
  std::string_view use = member(jwk, "use");
  if (!use.empty() && use != "sig") return false;
  dom::array ops;
  if (jwk["key_ops"].get_array().get(ops) != simdjson::SUCCESS) return true;
  for (dom::element op : ops) {
    std::string_view s;
    if (op.get_string().get(s) == simdjson::SUCCESS && s == "verify") return true;
  }
  return false;
}

Key key_from_jwk(dom::object jwk) {
  std::string kid(member(jwk, "kid"));
  std::string_view kty = member(jwk, "kty");
  Key key;
  if (kty == "RSA") {
    key = rsa_key_from_components(b64_member(jwk, "n"), b64_member(jwk, "e"), kid);
  } else if (kty == "EC") {
    key = ec_key_from_coordinates(member(jwk, "crv"), b64_member(jwk, "x"), b64_member(jwk, "y"),
                                  kid);
  } else if (kty == "oct") {
    key = key_from_secret(b64_member(jwk, "k"), kid);
  } else {
    throw std::invalid_argument("kty \"" + std::string(kty) + "\" is not RSA, EC or oct");
  }
  std::string_view alg = member(jwk, "alg");
  if (!alg.empty()) {
    const Algorithm* a = find_algorithm(alg);
    std::string why;
    if (!a) throw std::invalid_argument("alg \"" + std::string(alg) + "\" is not supported");
    if (!key_fits(key, *a, &why)) throw std::invalid_argument(why);
    key.alg = std::string(alg);
  }
  return key;
}

}  // namespace

KeySet parse_jwks(std::string_view json) {
  if (json.size() > kMaxJwksBytes) throw std::invalid_argument("JWKS: larger than 1 MiB");
  dom::parser parser;
  dom::object doc;
  if (parser.parse(json.data(), json.size()).get_object().get(doc) != simdjson::SUCCESS) {
    throw std::invalid_argument("JWKS: not a JSON object");
  }
  dom::array entries;
  if (doc["keys"].get_array().get(entries) != simdjson::SUCCESS) {
    throw std::invalid_argument("JWKS: no \"keys\" array (RFC 7517 §5)");
  }
  KeySet set;
  std::size_t index = 0;
  for (dom::element entry : entries) {
    std::string where = "JWKS key " + std::to_string(index++);
    dom::object jwk;
    if (entry.get_object().get(jwk) != simdjson::SUCCESS) {
      set.skipped().push_back(where + ": not an object");
      continue;
    }
    if (!for_signatures(jwk)) {
      set.skipped().push_back(where + ": not for signatures (use/key_ops)");
      continue;
    }
    try {
      set.add(key_from_jwk(jwk));
    } catch (const std::invalid_argument& e) {
      set.skipped().push_back(where + ": " + e.what());
    }
  }
  return set;
}

}  // namespace fa::mcp::auth
