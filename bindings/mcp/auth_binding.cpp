// Python bindings for src/mcp/auth: _native.JwtVerifier, _native.TokenError and the
// WWW-Authenticate / Protected Resource Metadata helpers (auth_*).
#include <Python.h>
#include "auth_binding.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "json_decode.h"
#include "mcp/auth/bearer.h"
#include "mcp/auth/jwt_verifier.h"
#include "mcp/auth/key_set.h"
#include "mcp/auth/resource_metadata.h"
#include "registry.h"

namespace nb = nanobind;
namespace auth = fa::mcp::auth;

namespace fa::py {
namespace {

// fasterapi._native.TokenError, a ValueError subclass; the module holds a reference.
PyObject* g_token_error = nullptr;

constexpr auth::AuthError kAllErrors[] = {
    auth::AuthError::kMissingToken,  auth::AuthError::kInvalidRequest,
    auth::AuthError::kMalformed,     auth::AuthError::kUnsupportedAlgorithm,
    auth::AuthError::kUnknownKey,    auth::AuthError::kBadSignature,
    auth::AuthError::kExpired,       auth::AuthError::kNotYetValid,
    auth::AuthError::kMissingClaim,  auth::AuthError::kWrongIssuer,
    auth::AuthError::kWrongAudience, auth::AuthError::kInsufficientScope,
};

auth::AuthError error_from_name(std::string_view name) {
  for (auth::AuthError e : kAllErrors) {
    if (auth::error_name(e) == name) return e;
  }
  throw std::invalid_argument("auth: unknown error kind \"" + std::string(name) + "\"");
}

// Raises TokenError(description) with .kind, .description, .status and .error (RFC 6750 code).
[[noreturn]] void raise_token_error(const auth::AuthFailure& f) {
  nb::object exc = nb::borrow(g_token_error)(nb::str(f.description.c_str()));
  exc.attr("kind") = nb::str(auth::error_name(f.kind).data(), auth::error_name(f.kind).size());
  exc.attr("description") = nb::str(f.description.c_str());
  exc.attr("status") = auth::http_status(f.kind);
  std::string_view code = auth::oauth_error_code(f.kind);
  exc.attr("error") = nb::str(code.data(), code.size());
  PyErr_SetObject(g_token_error, exc.ptr());
  throw nb::python_error();
}

std::int64_t unix_now(std::optional<double> now) {
  if (now) return static_cast<std::int64_t>(std::floor(*now));
  auto t = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::seconds>(t).count();
}

// Bytes of a str (UTF-8) or bytes-like object.
std::string to_bytes(nb::handle obj, const char* what) {
  if (PyUnicode_Check(obj.ptr())) {
    Py_ssize_t n = 0;
    const char* p = PyUnicode_AsUTF8AndSize(obj.ptr(), &n);
    if (!p) throw nb::python_error();
    return std::string(p, static_cast<std::size_t>(n));
  }
  if (PyBytes_Check(obj.ptr())) {
    return std::string(PyBytes_AS_STRING(obj.ptr()),
                       static_cast<std::size_t>(PyBytes_GET_SIZE(obj.ptr())));
  }
  throw nb::type_error((std::string(what) + " must be str or bytes").c_str());
}

std::chrono::seconds to_seconds(double s, const char* what) {
  if (!(s >= 0)) throw std::invalid_argument(std::string(what) + " must be >= 0 seconds");
  return std::chrono::seconds(static_cast<std::int64_t>(s));
}

// A single configured key must fit one of the algorithms, or no token could ever pass: say so
// now (a 16-byte HS256 secret, an EC key with only RS256 allowed) rather than per request.
void require_usable(const auth::Key& key, const std::vector<std::string>& algorithms) {
  std::string why = "no algorithms";
  for (const std::string& name : algorithms) {
    const auth::Algorithm* alg = auth::find_algorithm(name);
    if (alg && auth::key_fits(key, *alg, &why)) return;
  }
  throw std::invalid_argument("JwtVerifier: the key fits none of the algorithms: " + why);
}

class PyJwtVerifier {
 public:
  PyJwtVerifier(std::string issuer, std::vector<std::string> audience,
                std::vector<std::string> algorithms, std::optional<nb::object> secret,
                std::optional<std::string> public_key_pem, std::optional<nb::object> jwks,
                std::vector<std::string> required_scopes, double leeway, bool require_exp,
                double refresh_interval, double min_refresh_interval, double verified_cache_ttl) {
    int sources = int(secret.has_value()) + int(public_key_pem.has_value()) + int(jwks.has_value());
    if (sources > 1) {
      throw std::invalid_argument("JwtVerifier: give one of secret, public_key_pem, jwks");
    }
    if (secret || public_key_pem) {
      auth::Key key = secret ? auth::key_from_secret(to_bytes(*secret, "secret"))
                             : auth::key_from_pem(*public_key_pem);
      require_usable(key, algorithms);
      auth::KeySet set;
      set.add(std::move(key));
      cache_ = std::make_shared<auth::KeyCache>(std::move(set));
    } else {
      auth::KeyCacheOptions opts{to_seconds(refresh_interval, "refresh_interval"),
                                 to_seconds(min_refresh_interval, "min_refresh_interval")};
      cache_ = std::make_shared<auth::KeyCache>(auth::JwksFetch{}, opts);
      if (jwks) cache_->install(to_bytes(*jwks, "jwks"), unix_now(std::nullopt));
    }
    auth::VerifierConfig config;
    config.issuer = std::move(issuer);
    config.audiences = std::move(audience);
    config.algorithms = std::move(algorithms);
    config.required_scopes = std::move(required_scopes);
    config.leeway = to_seconds(leeway, "leeway");
    config.require_exp = require_exp;
    config.verified_cache_ttl = to_seconds(verified_cache_ttl, "verified_cache_ttl");
    verifier_ = std::make_shared<auth::JwtVerifier>(std::move(config), cache_);
  }

  nb::object verify(std::string_view token, std::optional<double> now) const {
    return claims_or_raise(verifier_->verify(token, unix_now(now)));
  }

  nb::object verify_authorization(std::optional<std::string_view> header,
                                  std::optional<double> now) const {
    return claims_or_raise(verifier_->verify_authorization(header.value_or(""), unix_now(now)));
  }

  std::size_t set_jwks(nb::handle document, std::optional<double> now) {
    return cache_->install(to_bytes(document, "jwks"), unix_now(now));
  }

  std::shared_ptr<const auth::JwtVerifier> shared() const { return verifier_; }

  bool refresh_due(std::optional<double> now) const { return cache_->refresh_due(unix_now(now)); }

  std::vector<std::string> key_ids() const {
    std::vector<std::string> out;
    for (const auth::Key& k : cache_->keys(unix_now(std::nullopt))->keys()) out.push_back(k.kid);
    return out;
  }

 private:
  static nb::object claims_or_raise(const auth::Checked<auth::Claims>& r) {
    if (!r.ok()) raise_token_error(r.failure());
    PyObject* claims = json_decode(r.value().json);
    if (!claims) throw nb::python_error();
    return nb::steal(claims);
  }

  std::shared_ptr<auth::KeyCache> cache_;
  std::shared_ptr<auth::JwtVerifier> verifier_;
};

}  // namespace

std::shared_ptr<const auth::JwtVerifier> jwt_verifier_of(nb::handle obj) {
  return nb::cast<PyJwtVerifier&>(obj).shared();
}

void register_mcp_auth(nb::module_& m) {
  g_token_error = PyErr_NewExceptionWithDoc(
      "fasterapi._native.TokenError",
      "A bearer token was refused. Attributes: kind (e.g. 'expired'), description, status "
      "(400, 401 or 403) and error (the RFC 6750 code, '' when no token was sent).",
      PyExc_ValueError, nullptr);
  if (!g_token_error) throw nb::python_error();
  m.attr("TokenError") = nb::borrow(g_token_error);  // g_token_error keeps its own reference

  nb::class_<PyJwtVerifier>(m, "JwtVerifier",
                            "Checks bearer JWTs as an MCP resource server (src/mcp/auth).")
      .def(
          nb::init<std::string, std::vector<std::string>, std::vector<std::string>,
                   std::optional<nb::object>, std::optional<std::string>, std::optional<nb::object>,
                   std::vector<std::string>, double, bool, double, double, double>(),
          nb::kw_only(), nb::arg("issuer"), nb::arg("audience"), nb::arg("algorithms"),
          nb::arg("secret") = nb::none(), nb::arg("public_key_pem") = nb::none(),
          nb::arg("jwks") = nb::none(), nb::arg("required_scopes") = std::vector<std::string>{},
          nb::arg("leeway") = 30.0, nb::arg("require_exp") = true,
          nb::arg("refresh_interval") = 300.0, nb::arg("min_refresh_interval") = 30.0,
          nb::arg("verified_cache_ttl") = 60.0)
      .def("verify", &PyJwtVerifier::verify, nb::arg("token"), nb::arg("now") = nb::none(),
           "The token's claims as a dict; raises TokenError when it is refused.")
      .def("verify_authorization", &PyJwtVerifier::verify_authorization, nb::arg("header").none(),
           nb::arg("now") = nb::none(),
           "verify() on the token of an Authorization header value (None: no header).")
      .def("set_jwks", &PyJwtVerifier::set_jwks, nb::arg("document"), nb::arg("now") = nb::none(),
           "Replaces the keys with a JWKS document; returns how many keys it holds. "
           "ValueError (keys kept) if it is not a JWKS.")
      .def("refresh_due", &PyJwtVerifier::refresh_due, nb::arg("now") = nb::none())
      .def("key_ids", &PyJwtVerifier::key_ids);

  m.def(
      "auth_www_authenticate",
      [](std::optional<std::string> kind, std::string description, std::string resource_metadata,
         std::string scope) {
        if (!kind) return auth::www_authenticate(nullptr, resource_metadata, scope);
        auth::AuthFailure f{error_from_name(*kind), std::move(description)};
        return auth::www_authenticate(&f, resource_metadata, scope);
      },
      nb::arg("kind").none(), nb::arg("description") = "", nb::arg("resource_metadata") = "",
      nb::arg("scope") = "",
      "The WWW-Authenticate value for a refusal (RFC 6750 §3, RFC 9728 §5.1).");
  m.def(
      "auth_resource_metadata",
      [](std::string resource, std::vector<std::string> authorization_servers,
         std::vector<std::string> scopes_supported,
         std::vector<std::string> bearer_methods_supported, std::string resource_name,
         std::string resource_documentation) {
        auth::ResourceMetadata md;
        md.resource = std::move(resource);
        md.authorization_servers = std::move(authorization_servers);
        md.scopes_supported = std::move(scopes_supported);
        md.bearer_methods_supported = std::move(bearer_methods_supported);
        md.resource_name = std::move(resource_name);
        md.resource_documentation = std::move(resource_documentation);
        return auth::render_resource_metadata(md);
      },
      nb::arg("resource"), nb::arg("authorization_servers"),
      nb::arg("scopes_supported") = std::vector<std::string>{},
      nb::arg("bearer_methods_supported") = std::vector<std::string>{"header"},
      nb::arg("resource_name") = "", nb::arg("resource_documentation") = "",
      "The RFC 9728 Protected Resource Metadata document as JSON text.");
  m.def("auth_resource_metadata_url", &auth::resource_metadata_url, nb::arg("resource"));
  m.def("auth_resource_metadata_path", &auth::resource_metadata_path, nb::arg("resource"));
  m.def(
      "auth_error_status",
      [](std::string_view kind) { return auth::http_status(error_from_name(kind)); },
      nb::arg("kind"));
}

}  // namespace fa::py
