// parse_dsn and Value decoding without a server (byte fixtures of the *_send formats).
#include <gtest/gtest.h>

#include <string>

#include "pg/pg_config.h"
#include "pg/pg_value.h"

namespace fa::pg {
namespace {

TEST(PgDsn, ParsesEveryPart) {
  Config c = parse_dsn(
      "postgresql://al%40ice:p%3Ass@10.0.0.5:6543/"
      "my%20db?connect_timeout=3&application_name=x&sslmode=disable");
  EXPECT_EQ(c.user, "al@ice");
  EXPECT_EQ(c.password, "p:ss");
  EXPECT_EQ(c.host, "10.0.0.5");
  EXPECT_EQ(c.port, 6543);
  EXPECT_EQ(c.database, "my db");
  EXPECT_EQ(c.connect_timeout, std::chrono::seconds(3));
  ASSERT_EQ(c.options.size(), 1u);
  EXPECT_EQ(c.options[0].first, "application_name");
}

TEST(PgDsn, IPv6AndSocketDirectories) {
  Config c = parse_dsn("postgres://[::1]:5433/test");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 5433);
  EXPECT_EQ(parse_dsn("postgresql://%2Fvar%2Frun%2Fpostgresql/test").host, "/var/run/postgresql");
  EXPECT_EQ(parse_dsn("postgresql:///test?host=/tmp").host, "/tmp");
  Config d = parse_dsn("postgresql://");
  EXPECT_EQ(d.host, "127.0.0.1");
  EXPECT_EQ(d.port, 5432);
}

TEST(PgDsn, RefusesWhatItCannotHonour) {
  for (const char* bad :
       {"mysql://x", "postgresql://h:0/db", "postgresql://h:99999/db", "postgresql://h:/db",
        "postgresql://[::1/db", "postgresql://h/db?x", "postgresql://h/d%zz", "postgresql://h/d%0",
        "postgresql://h/d%00", "postgresql://h/db?sslmode=require",
        "postgresql://h/db?connect_timeout=x"}) {
    EXPECT_THROW(parse_dsn(bad), std::invalid_argument) << bad;
  }
}

TEST(PgValue, DecodesBinaryScalars) {
  const char i4[] = {'\xff', '\xff', '\xff', '\xd6'};  // -42
  EXPECT_EQ(Value(oids::kInt4, i4, 4).as<int>(), -42);
  EXPECT_THROW(Value(oids::kInt4, i4, 4).as<uint32_t>(), DecodeError);
  EXPECT_THROW(Value(oids::kInt4, i4, 3).as_int(), DecodeError);  // malformed length
  const char f8[] = {'\x40', '\x04', 0, 0, 0, 0, 0, 0};           // 2.5
  EXPECT_DOUBLE_EQ(Value(oids::kFloat8, f8, 8).as_double(), 2.5);
  const char jb[] = {'\x01', '{', '}'};
  EXPECT_EQ(Value(oids::kJsonb, jb, 3).as_text(), "{}");
  EXPECT_THROW(Value(oids::kJsonb, jb + 1, 2).as_text(), DecodeError);  // no version byte
  EXPECT_TRUE(Value(oids::kInt4, nullptr, -1).is_null());
  EXPECT_THROW(Value(oids::kInt4, nullptr, -1).as_int(), DecodeError);
  EXPECT_THROW(Value(1082, i4, 4).to_string(), DecodeError);  // date: no C++ decoder yet
}

TEST(PgValue, NumericFromSendFormat) {
  // 1234.5600: ndigits 2, weight 0... built as numeric_send does: digits 1234, 5600, dscale 4.
  const char n[] = {0, 2, 0, 0, 0, 0, 0, 4, '\x04', '\xd2', '\x15', '\xe0'};
  EXPECT_EQ(Value(oids::kNumeric, n, sizeof n).to_string(), "1234.5600");
  const char bad[] = {0, 3, 0, 0, 0, 0, 0, 4, '\x04', '\xd2'};
  EXPECT_THROW(Value(oids::kNumeric, bad, sizeof bad).to_string(), DecodeError);
}

}  // namespace
}  // namespace fa::pg
