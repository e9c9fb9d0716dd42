// Parsing and validating JWT access-token claims (RFC 7519 §4.1, RFC 9068 §4).
#include "mcp/auth/claims.h"

#include <openssl/crypto.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>

namespace fa::mcp::auth {
namespace {

namespace dom = simdjson::dom;

AuthFailure malformed(std::string why) {
  return fail(AuthError::kMalformed, std::move(why));
}

// Appends the space-separated tokens of `s` (RFC 6749 §3.3 scope syntax).
void split_scopes(std::string_view s, std::vector<std::string>& out) {
  while (!s.empty()) {
    std::size_t sp = s.find(' ');
    std::string_view one = s.substr(0, sp);
    if (!one.empty()) out.emplace_back(one);
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
}

// The prefix "scheme://authority" of a URI, lower-cased; the rest unchanged.
std::string lower_scheme_and_host(std::string_view uri) {
  std::string out(uri);
  std::size_t start = out.find("://");
  if (start == std::string::npos) return out;
  std::size_t end = out.find_first_of("/?#", start + 3);
  if (end == std::string::npos) end = out.size();
  std::transform(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(end), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool audience_matches(std::string_view aud, std::string_view resource) {
  if (constant_time_equal(aud, resource)) return true;
  return constant_time_equal(lower_scheme_and_host(aud), lower_scheme_and_host(resource));
}

Checked<Claims> parse_claims(std::string_view json) {
  dom::parser parser;  // not thread_local: see jwt_verifier.cpp
  dom::object obj;
  if (parser.parse(json.data(), json.size()).get_object().get(obj) != simdjson::SUCCESS) {
    return malformed("the claims are not a JSON object");
  }
  Claims c;
  c.json = std::string(json);
  std::vector<std::string_view> names;
  for (dom::key_value_pair field : obj) {
    names.push_back(field.key);
    std::string_view key = field.key;
    dom::element v = field.value;
    auto string_claim = [&](std::string& out) {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return false;
      out = std::string(s);
      return true;
    };
    auto number_claim = [&](std::optional<double>& out) {
      double d = 0;
      if (!v.is_number() || v.get_double().get(d) != simdjson::SUCCESS) return false;
      out = d;
      return true;
    };
    bool ok = true;
    if (key == "iss") {
      ok = string_claim(c.issuer);
    } else if (key == "sub") {
      ok = string_claim(c.subject);
    } else if (key == "client_id") {
      ok = string_claim(c.client_id);
    } else if (key == "exp") {
      ok = number_claim(c.expires_at);
    } else if (key == "nbf") {
      ok = number_claim(c.not_before);
    } else if (key == "aud") {  // RFC 7519 §4.1.3: a string or an array of strings
      std::string one;
      dom::array many;
      if (string_claim(one)) {
        c.audiences.push_back(std::move(one));
      } else if (v.get_array().get(many) == simdjson::SUCCESS) {
        for (dom::element e : many) {
          std::string_view s;
          if (e.get_string().get(s) != simdjson::SUCCESS)
            ok = false;
          else
            c.audiences.emplace_back(s);
        }
      } else {
        ok = false;
      }
    } else if (key == "scope" || key == "scp") {  // "scp": a list, as some servers issue it
      std::string_view s;
      dom::array many;
      if (v.get_string().get(s) == simdjson::SUCCESS) {
        split_scopes(s, c.scopes);
      } else if (v.get_array().get(many) == simdjson::SUCCESS) {
        for (dom::element e : many) {
          if (e.get_string().get(s) != simdjson::SUCCESS)
            ok = false;
          else
            split_scopes(s, c.scopes);
        }
      } else {
        ok = false;
      }
    }
    if (!ok) return malformed("claim \"" + std::string(key) + "\" has the wrong type");
  }
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
    return malformed("a claim name appears twice (RFC 7519 §4)");
  }
  return c;
}

std::optional<AuthFailure> validate_claims(const Claims& c, const VerifierConfig& config,
                                           std::int64_t now) {
  const double t = static_cast<double>(now);
  const double leeway = static_cast<double>(config.leeway.count());
  if (c.expires_at) {
    if (t >= *c.expires_at + leeway) return fail(AuthError::kExpired, "the token has expired");
  } else if (config.require_exp) {
    return fail(AuthError::kMissingClaim, "the token has no exp claim");
  }
  if (c.not_before && t + leeway < *c.not_before) {
    return fail(AuthError::kNotYetValid, "the token is not valid yet (nbf)");
  }
  if (c.issuer.empty()) return fail(AuthError::kWrongIssuer, "the token has no iss claim");
  if (!constant_time_equal(c.issuer, config.issuer)) {
    return fail(AuthError::kWrongIssuer, "the token was issued by another issuer");
  }
  bool for_us = false;
  for (const std::string& aud : c.audiences) {
    for (const std::string& resource : config.audiences) {
      for_us = for_us || audience_matches(aud, resource);
    }
  }
  if (!for_us) {
    return fail(AuthError::kWrongAudience, c.audiences.empty()
                                               ? "the token has no aud claim"
                                               : "the token is for another resource (aud)");
  }
  return check_scopes(c, config.required_scopes);
}

std::optional<AuthFailure> check_scopes(const Claims& c, std::span<const std::string> required) {
  std::string missing;
  for (const std::string& want : required) {
    if (std::find(c.scopes.begin(), c.scopes.end(), want) != c.scopes.end()) continue;
    if (!missing.empty()) missing += ' ';
    missing += want;
  }
  if (missing.empty()) return std::nullopt;
  return fail(AuthError::kInsufficientScope, "missing scope: " + missing);
}

}  // namespace fa::mcp::auth
