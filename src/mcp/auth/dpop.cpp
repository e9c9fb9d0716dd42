// DpopKey: a P-256 key from OpenSSL, proofs signed by OpenSSL.
#include "mcp/auth/dpop.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "mcp/auth/ossl_ptr.h"

namespace fa::mcp::auth {

namespace {

std::string sha256(std::string_view bytes) {
  unsigned char md[32];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1 || len != 32)
    throw std::runtime_error("DPoP: SHA-256 failed");
  return std::string(reinterpret_cast<char*>(md), len);
}

// A JSON string literal (the values are base64url, or a method, URL or nonce the caller gave).
std::string quoted(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

DpopKey::~DpopKey() {
  EVP_PKEY_free(pkey_);
}

std::shared_ptr<DpopKey> DpopKey::generate() {
  PkeyPtr pkey(EVP_EC_gen("P-256"));
  if (!pkey) throw std::runtime_error("DPoP: cannot generate a P-256 key");
  // The public point, uncompressed: 0x04 || X (32 bytes) || Y (32 bytes).
  unsigned char point[65];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                      sizeof point, &len) != 1 ||
      len != sizeof point || point[0] != 0x04)
    throw std::runtime_error("DPoP: cannot read the public key");
  std::string x = base64url_encode({reinterpret_cast<char*>(point + 1), 32});
  std::string y = base64url_encode({reinterpret_cast<char*>(point + 33), 32});
  std::shared_ptr<DpopKey> key(new DpopKey());
  key->pkey_ = pkey.release();
  // RFC 7638 §3: the required members in lexicographic order, no whitespace; the JWK itself
  // is sent the same way.
  key->jwk_ = R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + "\"}";
  key->thumbprint_ = base64url_encode(sha256(key->jwk_));
  return key;
}

std::string DpopKey::proof(std::string_view htm, std::string_view htu,
                           std::string_view access_token, std::string_view nonce,
                           int64_t now) const {
  if (now < 0)
    now = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  std::string_view target = htu.substr(0, htu.find_first_of("?#"));  // RFC 9449 §4.2
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1) throw std::runtime_error("DPoP: no randomness");
  std::string claims = R"({"jti":)" +
                       quoted(base64url_encode({reinterpret_cast<char*>(random), sizeof random})) +
                       R"(,"htm":)" + quoted(htm) + R"(,"htu":)" + quoted(target) + R"(,"iat":)" +
                       std::to_string(now);
  if (!access_token.empty())
    claims += R"(,"ath":)" + quoted(base64url_encode(sha256(access_token)));
  if (!nonce.empty()) claims += R"(,"nonce":)" + quoted(nonce);
  claims += '}';
  std::string header = R"({"typ":"dpop+jwt","alg":"ES256","jwk":)" + jwk_ + "}";
  std::string out = base64url_encode(header) + '.' + base64url_encode(claims);

  // ES256 (RFC 7518 §3.4): ECDSA P-256 over SHA-256 by OpenSSL, which gives DER; the JWS
  // signature is r and s, each as 32 big-endian bytes.
  using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
  using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char der[80];
  size_t der_len = sizeof der;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_) != 1 ||
      EVP_DigestSign(ctx.get(), der, &der_len, reinterpret_cast<const unsigned char*>(out.data()),
                     out.size()) != 1)
    throw std::runtime_error("DPoP: signing the proof failed");
  const unsigned char* p = der;
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  const BIGNUM *r = nullptr, *s = nullptr;
  if (sig) ECDSA_SIG_get0(sig.get(), &r, &s);
  unsigned char raw[64];
  if (!r || !s || BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
    throw std::runtime_error("DPoP: unexpected signature");
  out += '.';
  out += base64url_encode({reinterpret_cast<char*>(raw), sizeof raw});
  return out;
}

}  // namespace fa::mcp::auth
