// JwtVerifier: structure and header checks, key choice, libjwt signature check, claims.
#include "mcp/auth/jwt_verifier.h"

#include <openssl/err.h>
#include <simdjson.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "mcp/auth/algorithm.h"
#include "mcp/auth/base64url.h"
#include "mcp/auth/bearer.h"
#include "mcp/auth/ossl_ptr.h"

namespace fa::mcp::auth {
namespace {

namespace dom = simdjson::dom;

struct Header {
  const Algorithm* alg = nullptr;
  std::string kid;
};

AuthFailure malformed(std::string why) {
  return fail(AuthError::kMalformed, std::move(why));
}

// The JOSE header (RFC 7515 §4.1): alg from the allow-list, kid; typ and crit refused when
// we cannot honour them.
Checked<Header> parse_header(std::string_view b64, const std::vector<std::string>& allowed) {
  auto json = base64url_decode(b64);
  if (!json) return malformed("the header is not base64url");
  // A parser per call: a thread_local one crashed at thread exit inside the Python extension
  // (LTO build, beside json_decode's thread_local parser). Token headers are tiny.
  dom::parser parser;
  dom::object obj;
  if (parser.parse(json->data(), json->size()).get_object().get(obj) != simdjson::SUCCESS) {
    return malformed("the header is not a JSON object");
  }
  std::vector<std::string_view> names;
  for (dom::key_value_pair field : obj) names.push_back(field.key);
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
    return malformed("a header parameter appears twice");
  }
  std::string_view alg;
  if (obj["alg"].get_string().get(alg) != simdjson::SUCCESS) {
    return malformed("the header has no alg");
  }
  // RFC 8725 §3.1: never accept "none" (libjwt would, in any letter case, without a key).
  if (alg.size() == 4 && strncasecmp(alg.data(), "none", 4) == 0) {
    return fail(AuthError::kUnsupportedAlgorithm, "alg none is never accepted");
  }
  Header h;
  h.alg = find_algorithm(alg);
  if (!h.alg || std::find(allowed.begin(), allowed.end(), alg) == allowed.end()) {
    return fail(AuthError::kUnsupportedAlgorithm, "alg " + std::string(alg) + " is not allowed");
  }
  if (obj["crit"].error() != simdjson::NO_SUCH_FIELD) {  // RFC 7515 §4.1.11
    return malformed("crit header parameters are not supported");
  }
  // libjwt 1.10 refuses any typ but "JWT", so e.g. RFC 9068's "at+jwt" cannot be verified.
  auto typ = obj["typ"];
  if (typ.error() != simdjson::NO_SUCH_FIELD) {
    std::string_view t;
    if (typ.get_string().get(t) != simdjson::SUCCESS || t.size() != 3 ||
        strncasecmp(t.data(), "JWT", 3) != 0) {
      return malformed("typ must be JWT (libjwt 1.10 verifies no other)");
    }
  }
  auto kid = obj["kid"];
  if (kid.error() != simdjson::NO_SUCH_FIELD) {
    std::string_view k;
    if (kid.get_string().get(k) != simdjson::SUCCESS) return malformed("kid is not a string");
    h.kid = std::string(k);
  }
  return h;
}

// libjwt checks the signature; it re-reads alg from the header, which we already pinned.
std::optional<AuthFailure> check_signature(std::string_view token, const Key& key,
                                           const Algorithm& alg) {
  std::string nul_terminated(token);
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, nul_terminated.c_str(),
                      reinterpret_cast<const unsigned char*>(key.material.data()),
                      static_cast<int>(key.material.size()));
  JwtPtr jwt(raw);
  ERR_clear_error();  // failed verifications leave entries in OpenSSL's per-thread queue
  if (rc != 0 || !jwt) return fail(AuthError::kBadSignature, "the signature does not verify");
  if (jwt_get_alg(jwt.get()) != alg.id) {
    return fail(AuthError::kBadSignature, "libjwt verified another alg");
  }
  return std::nullopt;
}

}  // namespace

JwtVerifier::JwtVerifier(VerifierConfig config, std::shared_ptr<KeyCache> keys)
    : config_(std::move(config)), keys_(std::move(keys)) {
  if (config_.issuer.empty()) throw std::invalid_argument("JwtVerifier: issuer is required");
  if (config_.audiences.empty() || std::any_of(config_.audiences.begin(), config_.audiences.end(),
                                               [](const std::string& a) { return a.empty(); })) {
    throw std::invalid_argument(
        "JwtVerifier: audience is required: this server's canonical resource URI (RFC 8707)");
  }
  if (config_.algorithms.empty()) {
    throw std::invalid_argument("JwtVerifier: algorithms must list at least one algorithm");
  }
  for (const std::string& a : config_.algorithms) {
    if (!find_algorithm(a)) {
      throw std::invalid_argument("JwtVerifier: algorithm \"" + a +
                                  "\" is not one of HS256/384/512, RS256/384/512, ES256/384/512");
    }
  }
  if (!keys_) throw std::invalid_argument("JwtVerifier: no keys");
  verified_ = std::make_unique<VerifiedCache>(config_.verified_cache_ttl.count());
  if (config_.leeway.count() < 0) throw std::invalid_argument("JwtVerifier: negative leeway");
}

Checked<Claims> JwtVerifier::verify(std::string_view token, std::int64_t now) const {
  if (token.empty()) return fail(AuthError::kMissingToken, "no token");
  if (token.size() > kMaxTokenBytes) return malformed("the token is longer than 16 KiB");
  // JWS compact serialization: header.payload.signature (RFC 7515 §7.1).
  std::size_t dot1 = token.find('.');
  std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return malformed("the token is not three dot-separated parts (JWE is not supported)");
  }
  std::string_view head = token.substr(0, dot1);
  std::string_view body = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view sig = token.substr(dot2 + 1);
  if (head.empty() || body.empty() || !is_base64url(head) || !is_base64url(body) ||
      !is_base64url(sig)) {
    return malformed("a token part is empty or not base64url");
  }
  Checked<Header> header = parse_header(head, config_.algorithms);
  if (!header.ok()) return header.failure();
  if (sig.empty()) return fail(AuthError::kBadSignature, "the token has no signature");

  auto payload = base64url_decode(body);
  if (!payload) return malformed("the claims are not base64url");
  Checked<Claims> claims = parse_claims(*payload);
  if (!claims.ok()) return claims.failure();

  if (!verified_->contains(token, now)) {
    const Header& h = header.value();
    if (auto bad = check_key_and_signature(token, *h.alg, h.kid, now)) return *bad;
    verified_->insert(token, now, claims.value().expires_at);
  }
  if (auto bad = validate_claims(claims.value(), config_, now)) return *bad;
  return claims;
}

std::optional<AuthFailure> JwtVerifier::check_key_and_signature(std::string_view token,
                                                                const Algorithm& alg,
                                                                std::string_view kid,
                                                                std::int64_t now) const {
  std::shared_ptr<const KeySet> keys = keys_->keys(now);
  Checked<const Key*> key = keys->select(kid, alg);
  if (!key.ok() && key.failure().kind == AuthError::kUnknownKey) {
    if (auto fresh = keys_->refresh_for_unknown_kid(now)) {  // the issuer may have rotated keys
      keys = std::move(fresh);
      key = keys->select(kid, alg);
    }
  }
  if (!key.ok()) return key.failure();
  return check_signature(token, *key.value(), alg);
}

Checked<Claims> JwtVerifier::verify(std::string_view token) const {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return verify(token, std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

Checked<Claims> JwtVerifier::verify_authorization(std::string_view header, std::int64_t now) const {
  Checked<std::string_view> token = bearer_token(header);
  if (!token.ok()) return token.failure();
  return verify(token.value(), now);
}

}  // namespace fa::mcp::auth
