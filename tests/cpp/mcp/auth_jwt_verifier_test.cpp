// JwtVerifier: accepted tokens of each alg, and each kind of refusal classified.
#include "mcp/auth/jwt_verifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "auth_test_util.h"
#include "mcp/auth/key_set.h"

namespace fa::mcp::auth {
namespace {

using namespace testing;  // NOLINT: the test helpers

class JwtVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new TestKey(make_rsa());
    ec_ = new TestKey(make_ec());
    secret_ = new std::string(make_secret());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete secret_;
  }

  static VerifierConfig config(std::vector<std::string> algs) {
    VerifierConfig c;
    c.issuer = kIssuer;
    c.audiences = {kResource};
    c.algorithms = std::move(algs);
    return c;
  }
  static JwtVerifier with_key(Key key, std::vector<std::string> algs,
                              VerifierConfig base = config({})) {
    KeySet set;
    set.add(std::move(key));
    base.algorithms = std::move(algs);
    return JwtVerifier(base, std::make_shared<KeyCache>(std::move(set)));
  }
  static JwtVerifier rsa_verifier(VerifierConfig base = config({})) {
    return with_key(key_from_pem(rsa_->public_pem), {"RS256"}, std::move(base));
  }
  static AuthError refusal(const JwtVerifier& v, const std::string& token,
                           std::int64_t now = kNow) {
    Checked<Claims> r = v.verify(token, now);
    EXPECT_FALSE(r.ok()) << "accepted " << token;
    return r.ok() ? AuthError::kMissingToken : r.failure().kind;
  }

  static TestKey* rsa_;
  static TestKey* ec_;
  static std::string* secret_;
};
TestKey* JwtVerifierTest::rsa_ = nullptr;
TestKey* JwtVerifierTest::ec_ = nullptr;
std::string* JwtVerifierTest::secret_ = nullptr;

TEST_F(JwtVerifierTest, AcceptsRs256) {
  JwtVerifier v = rsa_verifier();
  Checked<Claims> r = v.verify(sign(JWT_ALG_RS256, rsa_->private_pem, claims()), kNow);
  ASSERT_TRUE(r.ok()) << r.failure().description;
  EXPECT_EQ(r.value().subject, "alice");
  EXPECT_EQ(r.value().issuer, kIssuer);
  EXPECT_EQ(r.value().audiences, std::vector<std::string>{kResource});
  EXPECT_EQ(r.value().scopes, (std::vector<std::string>{"mcp:tools", "read"}));
  EXPECT_NE(r.value().json.find("\"iat\""), std::string::npos);
}

TEST_F(JwtVerifierTest, AcceptsEs256) {
  JwtVerifier v = with_key(key_from_pem(ec_->public_pem), {"ES256"});
  Checked<Claims> r = v.verify(sign(JWT_ALG_ES256, ec_->private_pem, claims()), kNow);
  ASSERT_TRUE(r.ok()) << r.failure().description;
}

TEST_F(JwtVerifierTest, AcceptsHs256) {
  JwtVerifier v = with_key(key_from_secret(*secret_), {"HS256"});
  Checked<Claims> r = v.verify(sign(JWT_ALG_HS256, *secret_, claims()), kNow);
  ASSERT_TRUE(r.ok()) << r.failure().description;
}

TEST_F(JwtVerifierTest, AcceptsAudienceArrayAndUpperCaseHost) {
  JwtVerifier v = rsa_verifier();
  std::string c = "{\"iss\":\"https://auth.example.com\",\"exp\":" + std::to_string(kNow + 60) +
                  ",\"aud\":[\"https://other.example\",\"HTTPS://MCP.EXAMPLE.COM/mcp\"]}";
  EXPECT_TRUE(v.verify(sign(JWT_ALG_RS256, rsa_->private_pem, c), kNow).ok());
}

TEST_F(JwtVerifierTest, RefusesExpiredBeyondLeeway) {
  JwtVerifier v = rsa_verifier();
  std::string token = sign(JWT_ALG_RS256, rsa_->private_pem, claims());
  EXPECT_TRUE(v.verify(token, kNow + 600 + 29).ok());  // within the 30 s leeway
  EXPECT_EQ(refusal(v, token, kNow + 600 + 30), AuthError::kExpired);
}

TEST_F(JwtVerifierTest, RefusesNotYetValid) {
  JwtVerifier v = rsa_verifier();
  std::string token =
      sign(JWT_ALG_RS256, rsa_->private_pem, claims(",\"nbf\":" + std::to_string(kNow + 120)));
  EXPECT_EQ(refusal(v, token), AuthError::kNotYetValid);
  EXPECT_TRUE(v.verify(token, kNow + 100).ok());  // 20 s early: within the leeway
}

TEST_F(JwtVerifierTest, RefusesWrongAudience) {
  VerifierConfig c = config({});
  c.audiences = {"https://mcp.example.com/other"};
  JwtVerifier v = rsa_verifier(c);
  EXPECT_EQ(refusal(v, sign(JWT_ALG_RS256, rsa_->private_pem, claims())),
            AuthError::kWrongAudience);
  std::string no_aud =
      "{\"iss\":\"https://auth.example.com\",\"exp\":" + std::to_string(kNow + 60) + "}";
  EXPECT_EQ(refusal(rsa_verifier(), sign(JWT_ALG_RS256, rsa_->private_pem, no_aud)),
            AuthError::kWrongAudience);
}

TEST_F(JwtVerifierTest, RefusesWrongIssuer) {
  VerifierConfig c = config({});
  c.issuer = "https://auth.example.org";
  EXPECT_EQ(refusal(rsa_verifier(c), sign(JWT_ALG_RS256, rsa_->private_pem, claims())),
            AuthError::kWrongIssuer);
}

TEST_F(JwtVerifierTest, RefusesBadSignature) {
  JwtVerifier v = rsa_verifier();
  TestKey other = make_rsa();
  EXPECT_EQ(refusal(v, sign(JWT_ALG_RS256, other.private_pem, claims())), AuthError::kBadSignature);
  // A flipped claims byte under the original signature.
  std::string token = sign(JWT_ALG_RS256, rsa_->private_pem, claims());
  std::string forged = sign(JWT_ALG_RS256, other.private_pem, claims(",\"admin\":true"));
  std::size_t d1 = token.find('.'), d2 = token.rfind('.');
  std::size_t f1 = forged.find('.'), f2 = forged.rfind('.');
  std::string spliced = token.substr(0, d1) + forged.substr(f1, f2 - f1) + token.substr(d2);
  EXPECT_EQ(refusal(v, spliced), AuthError::kBadSignature);
}

TEST_F(JwtVerifierTest, RefusesAlgNone) {
  JwtVerifier v = rsa_verifier();
  std::string token = sign(JWT_ALG_NONE, "", claims());
  EXPECT_EQ(refusal(v, token), AuthError::kUnsupportedAlgorithm);
  // Even with "none" in another letter case and a dummy signature.
  std::string head = b64url("{\"alg\":\"NoNe\"}");
  std::string body = token.substr(token.find('.') + 1);
  body = body.substr(0, body.find('.'));
  EXPECT_EQ(refusal(v, head + "." + body + ".c2ln"), AuthError::kUnsupportedAlgorithm);
}

TEST_F(JwtVerifierTest, RefusesAlgorithmConfusion) {
  // The attacker HMACs with the RSA public key's PEM text as the secret.
  JwtVerifier v = with_key(key_from_pem(rsa_->public_pem), {"RS256", "HS256"});
  std::string token = sign(JWT_ALG_HS256, rsa_->public_pem, claims());
  EXPECT_EQ(refusal(v, token), AuthError::kUnsupportedAlgorithm);
  // With HS256 not even allowed, the same.
  EXPECT_EQ(refusal(rsa_verifier(), token), AuthError::kUnsupportedAlgorithm);
  // And configuring the PEM as a secret is refused up front.
  EXPECT_THROW(key_from_secret(rsa_->public_pem), std::invalid_argument);
}

TEST_F(JwtVerifierTest, RefusesAlgNotInAllowList) {
  JwtVerifier v = with_key(key_from_secret(*secret_), {"HS256"});
  std::string long_secret = *secret_ + *secret_;
  EXPECT_EQ(refusal(v, sign(JWT_ALG_HS512, long_secret, claims())),
            AuthError::kUnsupportedAlgorithm);
}

TEST_F(JwtVerifierTest, RefusesEcKeyOfAnotherCurve) {
  TestKey p384 = make_ec("P-384");
  JwtVerifier v = with_key(key_from_pem(p384.public_pem), {"ES256"});
  EXPECT_EQ(refusal(v, sign(JWT_ALG_ES384, p384.private_pem, claims())),
            AuthError::kUnsupportedAlgorithm);
}

TEST_F(JwtVerifierTest, RefusesUnknownKid) {
  KeySet set;
  set.add(key_from_pem(rsa_->public_pem, "k1"));
  JwtVerifier v(config({"RS256"}), std::make_shared<KeyCache>(std::move(set)));
  EXPECT_TRUE(v.verify(sign(JWT_ALG_RS256, rsa_->private_pem, claims(), "k1"), kNow).ok());
  EXPECT_EQ(refusal(v, sign(JWT_ALG_RS256, rsa_->private_pem, claims(), "k2")),
            AuthError::kUnknownKey);
}

TEST_F(JwtVerifierTest, RefusesMalformedTokens) {
  JwtVerifier v = rsa_verifier();
  std::string good = sign(JWT_ALG_RS256, rsa_->private_pem, claims());
  for (const std::string& bad :
       {std::string("abc"), std::string("a.b"), std::string("a.b.c.d"), std::string("a.b.c.d.e"),
        std::string("..sig"), "!!!." + good.substr(good.find('.') + 1),
        b64url("not json") + good.substr(good.find('.')),
        b64url("{\"alg\":\"RS256\",\"alg\":\"HS256\"}") + good.substr(good.find('.')),
        std::string(kMaxTokenBytes + 1, 'a')}) {
    EXPECT_EQ(refusal(v, bad), AuthError::kMalformed) << bad.substr(0, 80);
  }
  EXPECT_EQ(refusal(v, ""), AuthError::kMissingToken);
}

TEST_F(JwtVerifierTest, RefusesMissingExpWhenRequired) {
  std::string no_exp =
      "{\"iss\":\"https://auth.example.com\",\"aud\":\"" + std::string(kResource) + "\"}";
  std::string token = sign(JWT_ALG_RS256, rsa_->private_pem, no_exp);
  EXPECT_EQ(refusal(rsa_verifier(), token), AuthError::kMissingClaim);
  VerifierConfig lax = config({});
  lax.require_exp = false;
  EXPECT_TRUE(rsa_verifier(lax).verify(token, kNow).ok());
}

TEST_F(JwtVerifierTest, RefusesClaimsOfTheWrongType) {
  std::string c = "{\"iss\":\"https://auth.example.com\",\"aud\":\"" + std::string(kResource) +
                  "\",\"exp\":\"tomorrow\"}";
  EXPECT_EQ(refusal(rsa_verifier(), sign(JWT_ALG_RS256, rsa_->private_pem, c)),
            AuthError::kMalformed);
}

TEST_F(JwtVerifierTest, RequiredScopes) {
  VerifierConfig c = config({});
  c.required_scopes = {"mcp:tools"};
  EXPECT_TRUE(rsa_verifier(c).verify(sign(JWT_ALG_RS256, rsa_->private_pem, claims()), kNow).ok());
  c.required_scopes = {"mcp:tools", "admin", "write"};
  Checked<Claims> r =
      rsa_verifier(c).verify(sign(JWT_ALG_RS256, rsa_->private_pem, claims()), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure().kind, AuthError::kInsufficientScope);
  EXPECT_EQ(r.failure().description, "missing scope: admin write");
  EXPECT_EQ(http_status(r.failure().kind), 403);
}

TEST_F(JwtVerifierTest, ScpArrayCountsAsScopes) {
  VerifierConfig c = config({});
  c.required_scopes = {"files:read"};
  std::string scp = claims(",\"scp\":[\"files:read\"]");
  EXPECT_TRUE(rsa_verifier(c).verify(sign(JWT_ALG_RS256, rsa_->private_pem, scp), kNow).ok());
}

TEST_F(JwtVerifierTest, VerifyAuthorizationHeader) {
  JwtVerifier v = rsa_verifier();
  std::string token = sign(JWT_ALG_RS256, rsa_->private_pem, claims());
  EXPECT_TRUE(v.verify_authorization("Bearer " + token, kNow).ok());
  EXPECT_TRUE(v.verify_authorization("bearer  " + token + " ", kNow).ok());
  EXPECT_EQ(v.verify_authorization("", kNow).failure().kind, AuthError::kMissingToken);
  EXPECT_EQ(v.verify_authorization("Basic dXNlcjpwYXNz", kNow).failure().kind,
            AuthError::kMissingToken);
  EXPECT_EQ(v.verify_authorization("Bearer", kNow).failure().kind, AuthError::kInvalidRequest);
  EXPECT_EQ(v.verify_authorization("Bearer a b", kNow).failure().kind, AuthError::kInvalidRequest);
}

TEST_F(JwtVerifierTest, VerifiesOnSeveralThreads) {
  JwtVerifier v = rsa_verifier();
  std::string token = sign(JWT_ALG_RS256, rsa_->private_pem, claims());
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j) accepted += v.verify(token, kNow).ok();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 80);
}

TEST_F(JwtVerifierTest, ConfigurationMistakesFailFast) {
  KeySet set;
  auto keys = std::make_shared<KeyCache>(std::move(set));
  VerifierConfig c = config({"RS256"});
  c.issuer.clear();
  EXPECT_THROW(JwtVerifier(c, keys), std::invalid_argument);
  c = config({"RS256"});
  c.audiences.clear();
  EXPECT_THROW(JwtVerifier(c, keys), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(config({}), keys), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(config({"none"}), keys), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(config({"rs256"}), keys), std::invalid_argument);
}

}  // namespace
}  // namespace fa::mcp::auth
