// Test keys made at run time with OpenSSL, and tokens signed with libjwt, for the auth tests.
#pragma once

#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "mcp/auth/ossl_ptr.h"

namespace fa::mcp::auth::testing {

inline constexpr std::int64_t kNow = 1'800'000'000;  // a fixed "now" (2027-01-15)
inline constexpr const char* kIssuer = "https://auth.example.com";
inline constexpr const char* kResource = "https://mcp.example.com/mcp";

inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// A generated key pair with its PEM forms.
struct TestKey {
  PkeyPtr pkey;
  std::string private_pem, public_pem;
};

inline TestKey finish(EVP_PKEY* raw) {
  if (!raw) throw std::runtime_error("key generation failed");
  TestKey k{PkeyPtr(raw), {}, {}};
  BioPtr priv(BIO_new(BIO_s_mem())), pub(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(priv.get(), raw, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub.get(), raw);
  k.private_pem = bio_text(priv.get());
  k.public_pem = bio_text(pub.get());
  return k;
}

inline TestKey make_rsa(unsigned bits = 2048) {
  return finish(EVP_RSA_gen(bits));
}
inline TestKey make_ec(const char* curve = "P-256") {
  return finish(EVP_EC_gen(curve));
}

inline std::string make_secret(std::size_t n = 32) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
  return s;
}

inline std::string b64url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

inline std::string bn_param(EVP_PKEY* pkey, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) throw std::runtime_error(name);
  BignumPtr owned(bn);
  std::string bytes(pad ? static_cast<std::size_t>(pad) : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  return b64url(bytes);
}

// The public JWK (RFC 7517) of an RSA or P-256 key, as a JSON object.
inline std::string jwk(const TestKey& k, const std::string& kid, const std::string& extra = "") {
  std::string out = "{\"kid\":\"" + kid + "\"" + extra;
  if (EVP_PKEY_get_base_id(k.pkey.get()) == EVP_PKEY_RSA) {
    out += ",\"kty\":\"RSA\",\"n\":\"" + bn_param(k.pkey.get(), OSSL_PKEY_PARAM_RSA_N) +
           "\",\"e\":\"" + bn_param(k.pkey.get(), OSSL_PKEY_PARAM_RSA_E) + "\"}";
  } else {
    out += ",\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" +
           bn_param(k.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32) + "\",\"y\":\"" +
           bn_param(k.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32) + "\"}";
  }
  return out;
}

// A token signed by libjwt: alg with key (private PEM or secret), the claims JSON, a kid.
inline std::string sign(jwt_alg_t alg, std::string_view key, const std::string& claims,
                        const std::string& kid = "") {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new");
  JwtPtr jwt(raw);
  int rc = alg == JWT_ALG_NONE
               ? jwt_set_alg(raw, alg, nullptr, 0)
               : jwt_set_alg(raw, alg, reinterpret_cast<const unsigned char*>(key.data()),
                             static_cast<int>(key.size()));
  if (rc != 0) throw std::runtime_error("jwt_set_alg");
  if (!kid.empty()) jwt_add_header(raw, "kid", kid.c_str());
  if (jwt_add_grants_json(raw, claims.c_str()) != 0) throw std::runtime_error("claims JSON");
  CStringPtr token(jwt_encode_str(raw));
  if (!token) throw std::runtime_error("jwt_encode_str");
  return token.get();
}

// Claims valid at kNow for kIssuer and kResource, with `extra` members appended.
inline std::string claims(const std::string& extra = "") {
  return std::string("{\"iss\":\"") + kIssuer + "\",\"aud\":\"" + kResource +
         "\",\"sub\":\"alice\",\"exp\":" + std::to_string(kNow + 600) +
         ",\"iat\":" + std::to_string(kNow - 10) + ",\"scope\":\"mcp:tools read\"" + extra + "}";
}

}  // namespace fa::mcp::auth::testing
