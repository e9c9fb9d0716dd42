// DPoP proofs (src/mcp/auth/dpop.h, RFC 9449 §4): checked here as a resource server does, the
// signature verified by OpenSSL under the public key rebuilt from the proof's own JWK. (libjwt
// 1.10 cannot: it refuses any typ but JWT. tests/python/mcp/test_client_modern.py verifies
// proofs with PyJWT as well.)
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <set>
#include <string>

#include "mcp/auth/base64url.h"
#include "mcp/auth/dpop.h"
#include "mcp/auth/key.h"
#include "mcp/auth/ossl_ptr.h"

namespace fa::mcp::auth {
namespace {

std::string part(const std::string& jws, int index) {
  size_t a = 0;
  for (int i = 0; i < index; ++i) a = jws.find('.', a) + 1;
  size_t b = jws.find('.', a);
  return base64url_decode(std::string_view(jws).substr(a, b - a)).value_or("");
}

// ES256 verification of a compact JWS under `pem` (SubjectPublicKeyInfo) by OpenSSL.
bool es256_verifies(const std::string& jws, const std::string& pem) {
  size_t dot = jws.rfind('.');
  auto raw = base64url_decode(std::string_view(jws).substr(dot + 1));
  if (!raw || raw->size() != 64) return false;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  ECDSA_SIG* sig = ECDSA_SIG_new();
  auto* bytes = reinterpret_cast<const unsigned char*>(raw->data());
  ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = pkey && der_len > 0 &&
            EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey.get()) == 1 &&
            EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len),
                             reinterpret_cast<const unsigned char*>(jws.data()), dot) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return ok;
}

// The SPKI PEM of the key named by the jwk in `header_json`.
std::string key_of(const std::string& header_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element header = parser.parse(header_json);
  std::string_view x, y;
  EXPECT_FALSE(header["jwk"]["x"].get_string().get(x));
  EXPECT_FALSE(header["jwk"]["y"].get_string().get(y));
  EXPECT_TRUE(header["jwk"]["d"].error()) << "the private key must not be sent";
  return ec_key_from_coordinates("P-256", base64url_decode(x).value_or(""),
                                 base64url_decode(y).value_or(""))
      .material;
}

// Checks `proof`'s header and signature under its own jwk; returns its claims JSON.
std::string verified_claims(const std::string& proof) {
  std::string header_json = part(proof, 0);
  simdjson::dom::parser parser;
  simdjson::dom::element header = parser.parse(header_json);
  EXPECT_EQ(header["typ"].get_string().value(), "dpop+jwt");
  EXPECT_EQ(header["alg"].get_string().value(), "ES256");
  EXPECT_TRUE(es256_verifies(proof, key_of(header_json))) << "the signature does not verify";
  return part(proof, 1);
}

TEST(Dpop, ProofVerifiesUnderItsJwkAndCarriesTheClaims) {
  auto key = DpopKey::generate();
  std::string proof = key->proof("POST", "https://as.example/token?x=1#f", "", "", 1700000000);
  simdjson::dom::parser parser;
  simdjson::dom::element claims = parser.parse(verified_claims(proof));
  EXPECT_EQ(claims["htm"].get_string().value(), "POST");
  EXPECT_EQ(claims["htu"].get_string().value(), "https://as.example/token");  // §4.2
  EXPECT_EQ(claims["iat"].get_int64().value(), 1700000000);
  EXPECT_TRUE(claims["ath"].error());
  EXPECT_TRUE(claims["nonce"].error());

  std::string bound = key->proof("GET", "http://h/mcp", "tok-1", "n\"1");
  simdjson::dom::parser p2;
  simdjson::dom::element c2 = p2.parse(verified_claims(bound));
  // ath: base64url(SHA-256("tok-1")), RFC 9449 §4.2.
  EXPECT_EQ(c2["ath"].get_string().value(), "ZdzxbqPfpJBpYoCJ60p1SDBw9VhLKiHuZJErX2IfEto");
  EXPECT_EQ(c2["nonce"].get_string().value(), "n\"1");
}

TEST(Dpop, EveryProofHasItsOwnJti) {
  auto key = DpopKey::generate();
  std::set<std::string> jtis;
  for (int i = 0; i < 50; ++i) {
    simdjson::dom::parser parser;
    simdjson::dom::element claims = parser.parse(part(key->proof("POST", "http://h/mcp"), 1));
    jtis.insert(std::string(claims["jti"].get_string().value()));
  }
  EXPECT_EQ(jtis.size(), 50u);
}

TEST(Dpop, AnotherKeysProofDoesNotVerify) {
  auto a = DpopKey::generate(), b = DpopKey::generate();
  EXPECT_NE(a->jwk(), b->jwk());
  EXPECT_NE(a->thumbprint(), b->thumbprint());
  std::string proof = b->proof("POST", "http://h/mcp");
  EXPECT_TRUE(es256_verifies(proof, key_of(part(proof, 0))));
  // b's proof claiming a's jwk: the signature does not verify under a's key.
  std::string header = R"({"typ":"dpop+jwt","alg":"ES256","jwk":)" + a->jwk() + "}";
  std::string forged = base64url_encode(header) + proof.substr(proof.find('.'));
  EXPECT_FALSE(es256_verifies(forged, key_of(header)));
}

TEST(Dpop, ThumbprintIsRfc7638) {
  auto key = DpopKey::generate();
  // RFC 7638 §3: the JWK is already in the canonical form (crv, kty, x, y; no whitespace).
  EXPECT_EQ(key->jwk().rfind(R"({"crv":"P-256","kty":"EC","x":")", 0), 0u) << key->jwk();
  EXPECT_EQ(key->thumbprint().size(), 43u);  // 32 bytes, base64url
}

}  // namespace
}  // namespace fa::mcp::auth
