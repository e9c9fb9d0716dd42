// JWKS parsing (RSA, EC, oct; skipped entries) and key rotation through KeyCache by kid.
#include <gtest/gtest.h>

#include <optional>

#include "auth_test_util.h"
#include "mcp/auth/jwt_verifier.h"
#include "mcp/auth/key_cache.h"
#include "mcp/auth/key_set.h"

namespace fa::mcp::auth {
namespace {

using namespace testing;  // NOLINT: the test helpers

VerifierConfig config() {
  VerifierConfig c;
  c.issuer = kIssuer;
  c.audiences = {kResource};
  c.algorithms = {"RS256", "ES256"};
  return c;
}

std::string jwks(std::initializer_list<std::string> keys) {
  std::string out = "{\"keys\":[";
  bool first = true;
  for (const std::string& k : keys) {
    if (!first) out += ',';
    out += k;
    first = false;
  }
  return out + "]}";
}

TEST(Jwks, ParsesRsaAndEcKeys) {
  TestKey rsa = make_rsa(), ec = make_ec();
  KeySet set =
      parse_jwks(jwks({jwk(rsa, "r1", ",\"use\":\"sig\",\"alg\":\"RS256\""), jwk(ec, "e1")}));
  ASSERT_EQ(set.size(), 2u) << (set.skipped().empty() ? "" : set.skipped()[0]);
  EXPECT_EQ(set.keys()[0].type, KeyType::kRsa);
  EXPECT_EQ(set.keys()[0].bits, 2048);
  EXPECT_EQ(set.keys()[0].alg, "RS256");
  EXPECT_EQ(set.keys()[0].material, rsa.public_pem);  // the same key, as SPKI PEM
  EXPECT_EQ(set.keys()[1].type, KeyType::kEc);
  EXPECT_EQ(set.keys()[1].curve, "P-256");
  EXPECT_EQ(set.keys()[1].material, ec.public_pem);
}

TEST(Jwks, VerifiesTokensWithJwksKeys) {
  TestKey rsa = make_rsa(), ec = make_ec();
  auto cache = std::make_shared<KeyCache>(parse_jwks(jwks({jwk(rsa, "r1"), jwk(ec, "e1")})));
  JwtVerifier v(config(), cache);
  EXPECT_TRUE(v.verify(sign(JWT_ALG_RS256, rsa.private_pem, claims(), "r1"), kNow).ok());
  EXPECT_TRUE(v.verify(sign(JWT_ALG_ES256, ec.private_pem, claims(), "e1"), kNow).ok());
  // The EC key's kid on an RS256 token: the key does not fit the alg.
  EXPECT_EQ(v.verify(sign(JWT_ALG_RS256, rsa.private_pem, claims(), "e1"), kNow).failure().kind,
            AuthError::kUnsupportedAlgorithm);
}

TEST(Jwks, JwkAlgPinsTheKey) {
  TestKey rsa = make_rsa();
  auto cache = std::make_shared<KeyCache>(parse_jwks(jwks({jwk(rsa, "r1", ",\"alg\":\"RS512\"")})));
  VerifierConfig c = config();
  c.algorithms = {"RS256", "RS512"};
  JwtVerifier v(c, cache);
  EXPECT_EQ(v.verify(sign(JWT_ALG_RS256, rsa.private_pem, claims(), "r1"), kNow).failure().kind,
            AuthError::kUnsupportedAlgorithm);
  EXPECT_TRUE(v.verify(sign(JWT_ALG_RS512, rsa.private_pem, claims(), "r1"), kNow).ok());
}

TEST(Jwks, SkipsWhatItCannotUse) {
  TestKey rsa = make_rsa(), small = make_rsa(1024);
  std::string bad_point = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" +
                          b64url(std::string(32, '\1')) + "\",\"y\":\"" +
                          b64url(std::string(32, '\2')) + "\"}";
  KeySet set = parse_jwks(jwks({
      jwk(rsa, "enc", ",\"use\":\"enc\""),
      jwk(small, "small"),
      bad_point,
      "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"}",
      "{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}",
      "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}",
      "42",
      jwk(rsa, "ok"),
  }));
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.keys()[0].kid, "ok");
  EXPECT_EQ(set.skipped().size(), 7u);
}

TEST(Jwks, ParsesOctKeys) {
  std::string secret = make_secret();
  KeySet set =
      parse_jwks(jwks({"{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"" + b64url(secret) + "\"}"}));
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.keys()[0].type, KeyType::kSecret);
  EXPECT_EQ(set.keys()[0].material, secret);
}

TEST(Jwks, RefusesDocumentsThatAreNotJwks) {
  EXPECT_THROW(parse_jwks("[]"), std::invalid_argument);
  EXPECT_THROW(parse_jwks("{\"keys\":{}}"), std::invalid_argument);
  EXPECT_THROW(parse_jwks("{\"keys\":["), std::invalid_argument);
}

// A JWKS endpoint that serves whatever document the test puts there, counting fetches.
struct FakeEndpoint {
  std::string document;
  int fetches = 0;
  bool down = false;
  JwksFetch fetcher() {
    return [this]() -> std::optional<std::string> {
      ++fetches;
      if (down) return std::nullopt;
      return document;
    };
  }
};

TEST(KeyCache, RotationByKid) {
  TestKey old_key = make_rsa(), new_key = make_rsa();
  FakeEndpoint as;
  as.document = jwks({jwk(old_key, "2026-01")});
  KeyCacheOptions opts;  // refresh every 300 s, unknown kids at most every 30 s
  auto cache = std::make_shared<KeyCache>(as.fetcher(), opts);
  JwtVerifier v(config(), cache);

  EXPECT_TRUE(v.verify(sign(JWT_ALG_RS256, old_key.private_pem, claims(), "2026-01"), kNow).ok());
  EXPECT_EQ(as.fetches, 1);
  // The issuer rotates: publishes the new key and signs with it.
  as.document = jwks({jwk(old_key, "2026-01"), jwk(new_key, "2026-02")});
  std::string fresh = sign(JWT_ALG_RS256, new_key.private_pem, claims(), "2026-02");
  // Within 30 s of the last fetch an unknown kid does not trigger another one.
  EXPECT_EQ(v.verify(fresh, kNow + 10).failure().kind, AuthError::kUnknownKey);
  EXPECT_EQ(as.fetches, 1);
  // After that, the unknown kid fetches the set once and the token verifies.
  EXPECT_TRUE(v.verify(fresh, kNow + 31).ok());
  EXPECT_EQ(as.fetches, 2);
  EXPECT_TRUE(v.verify(fresh, kNow + 32).ok());
  EXPECT_EQ(as.fetches, 2);
  // Made-up kids cannot make it fetch more than once per 30 s.
  for (int i = 0; i < 5; ++i) {
    v.verify(sign(JWT_ALG_RS256, new_key.private_pem, claims(), "bogus"), kNow + 40);
  }
  EXPECT_EQ(as.fetches, 2);
  // The old key retired; the periodic refresh (300 s) drops it.
  as.document = jwks({jwk(new_key, "2026-02")});
  EXPECT_EQ(v.verify(sign(JWT_ALG_RS256, old_key.private_pem, claims(), "2026-01"), kNow + 31 + 300)
                .failure()
                .kind,
            AuthError::kUnknownKey);
  EXPECT_EQ(as.fetches, 3);
}

TEST(KeyCache, KeepsKeysWhenTheEndpointFails) {
  TestKey key = make_rsa();
  FakeEndpoint as;
  as.document = jwks({jwk(key, "k")});
  KeyCacheOptions every_minute{std::chrono::seconds(60), std::chrono::seconds(10)};
  auto cache = std::make_shared<KeyCache>(as.fetcher(), every_minute);
  JwtVerifier v(config(), cache);
  std::string token = sign(JWT_ALG_RS256, key.private_pem, claims(), "k");
  EXPECT_TRUE(v.verify(token, kNow).ok());
  as.down = true;
  EXPECT_TRUE(v.verify(token, kNow + 100).ok());  // refresh due, fetch fails: old keys stay
  as.down = false;
  as.document = "not json";
  EXPECT_TRUE(v.verify(token, kNow + 200).ok());  // a broken document does not replace them
  EXPECT_EQ(as.fetches, 3);
}

TEST(KeyCache, InstallAndRefreshDueForOwnersThatFetch) {
  TestKey key = make_rsa();
  KeyCache cache(JwksFetch{}, KeyCacheOptions{});
  EXPECT_TRUE(cache.refresh_due(kNow));
  EXPECT_EQ(cache.install(jwks({jwk(key, "k")}), kNow), 1u);
  EXPECT_FALSE(cache.refresh_due(kNow + 299));
  EXPECT_TRUE(cache.refresh_due(kNow + 300));
  EXPECT_THROW(cache.install("{}", kNow), std::invalid_argument);
  EXPECT_EQ(cache.keys(kNow)->size(), 1u);
}

}  // namespace
}  // namespace fa::mcp::auth

namespace fa::mcp::auth {
namespace {

using namespace testing;  // NOLINT: the test helpers

TEST(VerifiedCache, RecentlyVerifiedTokensSkipTheSignatureForTheTtl) {
  TestKey key = make_rsa(), other = make_rsa();
  for (std::int64_t ttl : {60, 0}) {
    auto cache = std::make_shared<KeyCache>(JwksFetch{}, KeyCacheOptions{});
    cache->install(jwks({jwk(key, "k")}), kNow);
    VerifierConfig c = config();
    c.verified_cache_ttl = std::chrono::seconds(ttl);
    JwtVerifier v(c, cache);
    std::string token = sign(JWT_ALG_RS256, key.private_pem, claims(), "k");
    ASSERT_TRUE(v.verify(token, kNow).ok());
    cache->install(jwks({jwk(other, "k2")}), kNow);  // the key is withdrawn
    // Cached: still accepted within the TTL (claims are checked each time)...
    EXPECT_EQ(v.verify(token, kNow + 59).ok(), ttl == 60) << ttl;
    // ...and verified against the current keys after it.
    EXPECT_EQ(v.verify(token, kNow + 60).failure().kind, AuthError::kUnknownKey) << ttl;
  }
}

TEST(VerifiedCache, StillChecksClaimsAndEveryByte) {
  TestKey key = make_rsa();
  KeySet set;
  set.add(key_from_pem(key.public_pem));
  JwtVerifier v(config(), std::make_shared<KeyCache>(std::move(set)));
  std::string token = sign(JWT_ALG_RS256, key.private_pem, claims());
  ASSERT_TRUE(v.verify(token, kNow).ok());
  EXPECT_EQ(v.verify(token, kNow + 700).failure().kind, AuthError::kExpired);
  std::string tampered = token;
  char& c = tampered[tampered.size() - 10];  // a middle byte of the signature
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(v.verify(tampered, kNow).failure().kind, AuthError::kBadSignature);
}

}  // namespace
}  // namespace fa::mcp::auth
