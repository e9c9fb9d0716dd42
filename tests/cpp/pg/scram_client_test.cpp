// Tests for ScramClient and md5_password against published vectors.
#include "pg/scram_client.h"

#include <gtest/gtest.h>

#include <vector>

#include "pg/md5_password.h"

namespace fa::pg {

// RFC 7677 §3 example exchange (user "user", password "pencil").
TEST(ScramClient, Rfc7677Vector) {
  ScramClient c("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  std::string fin = c.client_final(
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  EXPECT_EQ(fin,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  EXPECT_TRUE(c.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
  EXPECT_FALSE(c.verify_server_final("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
}

TEST(ScramClient, RejectsNonceThatDoesNotExtendOurs) {
  ScramClient c("", "pencil", "abc");
  EXPECT_EQ(c.client_final("r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"), "");
  EXPECT_FALSE(c.error().empty());
}

TEST(ScramClient, ServerErrorAttributeFails) {
  ScramClient c("", "pencil", "abc");
  ASSERT_FALSE(c.client_final("r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=16").empty());
  EXPECT_FALSE(c.verify_server_final("e=invalid-proof"));
  EXPECT_NE(c.error().find("invalid-proof"), std::string::npos);
}

TEST(Base64, RoundTrip) {
  std::string out;
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    ASSERT_TRUE(base64_decode(base64_encode(s), out));
    EXPECT_EQ(out, s);
  }
  EXPECT_FALSE(base64_decode("abc", out));
}

// Known value: md5("md5" + md5hex(md5hex("secret" + "alice") + salt)).
TEST(Md5Password, KnownValue) {
  std::string r = md5_password("alice", "secret", std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(r.size(), 35u);
  EXPECT_EQ(r.substr(0, 3), "md5");
  EXPECT_NE(r, md5_password("alice", "secret", std::string("\x01\x02\x03\x05", 4)));
}

}  // namespace fa::pg
