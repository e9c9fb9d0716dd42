// Connection against a real PostgreSQL server: startup, parameters and results of several
// types, auto-pipelining, errors mid-pipeline, the statement cache, Unix sockets.
#include "pg/pg_connection.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "pg_test_util.h"

namespace fa::pg {
namespace {

using testing::test_config;
using testing::wait;

TEST(PgConnection, ConnectsAndSelects) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  EXPECT_TRUE(conn->ready());
  EXPECT_NE(conn->backend_pid(), 0);
  Result r = wait(loop, conn->query("SELECT 1::int4 AS one, 'two'::text AS two"));
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r.columns().size(), 2u);
  EXPECT_EQ(r.columns()[0].name, "one");
  EXPECT_EQ(r[0][0].as<int>(), 1);
  EXPECT_EQ(r[0]["two"].as<std::string_view>(), "two");
  EXPECT_EQ(r.command_tag(), "SELECT 1");
  EXPECT_EQ(r.rows_affected(), 1);
}

TEST(PgConnection, ParametersOfSeveralTypes) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  const std::string long_text(100'000, 'x');
  const char raw[] = {'\0', '\x01', '\xff', 'a'};
  Result r = wait(
      loop, conn->query(
                "SELECT $1::int4, $2::int8, $3::float8, $4::text, $5::bool, $6::bytea, $7::int4, "
                "$8::numeric, $9::uuid, $10::jsonb, $11::text, $12::float4, $13::int2, $14::float8",
                {int32_t{-42}, int64_t{9'000'000'000}, 2.5, "héllo", true,
                 Param::bytes(std::string_view(raw, sizeof raw)), nullptr, "-12345.678900",
                 "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", R"({"a": [1, 2]})", long_text, 0.25f,
                 int16_t{-7}, -1.0 / 0.0}));
  ASSERT_EQ(r.size(), 1u);
  auto row = r[0];
  EXPECT_EQ(row[0].as<int32_t>(), -42);
  EXPECT_EQ(row[1].as<int64_t>(), 9'000'000'000);
  EXPECT_DOUBLE_EQ(row[2].as<double>(), 2.5);
  EXPECT_EQ(row[3].as<std::string>(), "héllo");
  EXPECT_TRUE(row[4].as<bool>());
  EXPECT_EQ(row[5].raw(), std::string_view(raw, sizeof raw));
  EXPECT_EQ(row[5].to_string(), "\\x0001ff61");
  EXPECT_TRUE(row[6].is_null());
  EXPECT_EQ(row[6].as<std::optional<int>>(), std::nullopt);
  EXPECT_EQ(row[7].to_string(), "-12345.678900");
  EXPECT_EQ(row[8].to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(row[9].as<std::string_view>(), R"({"a": [1, 2]})");
  EXPECT_EQ(row[10].as<std::string_view>(), long_text);
  EXPECT_FLOAT_EQ(row[11].as<float>(), 0.25f);
  EXPECT_EQ(row[12].as<int>(), -7);
  EXPECT_EQ(row[13].to_string(), "-inf");
  // Reading a value as the wrong type is a clear error, not garbage.
  EXPECT_THROW(row[3].as<int>(), DecodeError);
  EXPECT_THROW(row[6].as<int>(), DecodeError);
  EXPECT_THROW(row[1].as<int16_t>(), DecodeError);  // out of range
}

TEST(PgConnection, NumericTextForms) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  const char* cases[] = {"0",
                         "1",
                         "-1",
                         "10000",
                         "0.0001",
                         "123456789.000000001",
                         "NaN",
                         "Infinity",
                         "-Infinity",
                         "0.10",
                         "99999999999999999999"};
  for (const char* c : cases) {
    Result r = wait(loop, conn->query("SELECT $1::numeric", {c}));
    EXPECT_EQ(r[0][0].to_string(), c);
  }
}

TEST(PgConnection, PipelinesAThousandQueriesInOneWrite) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  uint64_t sends_before = conn->sends();
  std::vector<future<Result>> fs;
  fs.reserve(1000);
  for (int i = 0; i < 1000; ++i) fs.push_back(conn->query("SELECT $1::int4 * 2", {i}));
  EXPECT_EQ(conn->in_flight(), 1000u);
  EXPECT_EQ(conn->sends(), sends_before);  // nothing written until the loop turn ends
  for (int i = 0; i < 1000; ++i) {
    Result r = wait(loop, fs[i]);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0][0].as<int>(), 2 * i);
  }
  // One send() unless the socket buffer filled (then it resumes on EPOLLOUT).
  EXPECT_LE(conn->sends() - sends_before, 4u);
  EXPECT_EQ(conn->cached_statements(), 1u);
  EXPECT_EQ(conn->in_flight(), 0u);
}

TEST(PgConnection, ServerErrorMidPipelineLeavesTheOthersAnswered) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  std::vector<future<Result>> fs;
  for (int i = 0; i < 10; ++i)
    fs.push_back(i == 5 ? conn->query("SELECT 1 / $1::int4", {0})
                        : conn->query("SELECT $1::int4", {i}));
  for (int i = 0; i < 10; ++i) {
    if (i == 5) {
      try {
        wait(loop, fs[i]);
        ADD_FAILURE() << "division by zero did not fail";
      } catch (const ServerError& e) {
        EXPECT_EQ(e.sqlstate(), "22012");
        EXPECT_EQ(e.message(), "division by zero");
        EXPECT_NE(std::string(e.what()).find("22012"), std::string::npos);
      }
    } else {
      EXPECT_EQ(wait(loop, fs[i])[0][0].as<int>(), i);
    }
  }
  EXPECT_TRUE(conn->ready());
}

TEST(PgConnection, BadSqlPipelinedTwiceFailsBothWithTheParseError) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  auto a = conn->query("SELEC 1");
  auto b = conn->query("SELEC 1");  // names the statement whose Parse fails
  auto c = conn->query("SELECT 3");
  for (auto* f : {&a, &b}) {
    try {
      wait(loop, *f);
      ADD_FAILURE() << "syntax error did not fail";
    } catch (const ServerError& e) {
      EXPECT_EQ(e.sqlstate(), "42601");
    }
  }
  EXPECT_EQ(wait(loop, c)[0][0].as<int>(), 3);
  EXPECT_EQ(conn->cached_statements(), 1u);                       // only the good one
  EXPECT_THROW(wait(loop, conn->query("SELEC 1")), ServerError);  // parsed afresh, fails again
}

TEST(PgConnection, StatementCacheEvictsBeyondItsSize) {
  EventLoop loop;
  Config cfg = test_config();
  cfg.statement_cache_size = 2;
  auto conn = testing::connect_or_skip(loop, cfg);
  if (!conn) return;
  for (int round = 0; round < 3; ++round) {
    std::vector<future<Result>> fs;
    for (int i = 0; i < 5; ++i) fs.push_back(conn->query("SELECT " + std::to_string(i) + "::int4"));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(wait(loop, fs[i])[0][0].as<int>(), i);
    EXPECT_LE(conn->cached_statements(), 2u);
  }
  Result r = wait(loop, conn->query("SELECT count(*)::int4 FROM pg_prepared_statements"));
  EXPECT_LE(r[0][0].as<int>(), 2);
}

TEST(PgConnection, CommandsWithoutRowsAndRowsAffected) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  wait(loop, conn->query("CREATE TEMP TABLE t (id int4 primary key, name text)"));
  Result ins = wait(
      loop,
      conn->query("INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, $1::int4) g", {50}));
  EXPECT_EQ(ins.rows_affected(), 50);
  EXPECT_TRUE(ins.empty());
  Result sel = wait(loop, conn->query("SELECT id, name FROM t WHERE id > $1 ORDER BY id", {45}));
  ASSERT_EQ(sel.size(), 5u);
  int expect = 46;
  for (Row row : sel) {
    EXPECT_EQ(row["id"].as<int>(), expect);
    EXPECT_EQ(row["name"].as<std::string>(), "n" + std::to_string(expect));
    ++expect;
  }
  try {
    wait(loop, conn->query("INSERT INTO t VALUES (1, 'dup')"));
    ADD_FAILURE() << "duplicate key did not fail";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_EQ(e.field('n'), "t_pkey");
  }
}

TEST(PgConnection, StatementPreparedBeforeAnAlterTableIsPreparedAgain) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  wait(loop, conn->query("CREATE TEMP TABLE alt (a int4)"));
  wait(loop, conn->query("INSERT INTO alt VALUES (1)"));
  EXPECT_EQ(wait(loop, conn->query("SELECT * FROM alt"))[0].size(), 1u);
  wait(loop, conn->query("ALTER TABLE alt ADD COLUMN b text DEFAULT 'x'"));
  // The cached statement may fail once (0A000, the server's own rule); then it is re-prepared.
  try {
    wait(loop, conn->query("SELECT * FROM alt"));
  } catch (const ServerError& e) {
    EXPECT_EQ(e.sqlstate(), "0A000");
  }
  Result r = wait(loop, conn->query("SELECT * FROM alt"));
  ASSERT_EQ(r[0].size(), 2u);
  EXPECT_EQ(r[0]["b"].as<std::string_view>(), "x");
  // A statement deallocated behind the cache's back is prepared again the same way.
  wait(loop, conn->query("DEALLOCATE ALL"));
  try {
    wait(loop, conn->query("SELECT * FROM alt"));
  } catch (const ServerError& e) {
    EXPECT_EQ(e.sqlstate(), "26000");
  }
  EXPECT_EQ(wait(loop, conn->query("SELECT * FROM alt"))[0][0].as<int>(), 1);
}

TEST(PgConnection, NulInSqlIsRefusedBeforeSending) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  EXPECT_THROW(wait(loop, conn->query(std::string_view("SELECT 1\0", 9))), std::invalid_argument);
  EXPECT_EQ(wait(loop, conn->query("SELECT 2"))[0][0].as<int>(), 2);
}

TEST(PgConnection, UnixSocket) {
  Config cfg = test_config();
  struct stat st {};
  std::string dir = "/var/run/postgresql";
  if (::stat((dir + "/.s.PGSQL." + std::to_string(cfg.port)).c_str(), &st) != 0)
    GTEST_SKIP() << "no PostgreSQL Unix socket in " << dir;
  cfg.host = dir;
  EventLoop loop;
  auto conn = testing::connect_or_skip(loop, cfg);
  if (!conn) return;
  EXPECT_EQ(wait(loop, conn->query("SELECT 5"))[0][0].as<int>(), 5);
}

TEST(PgConnection, RefusedConnectFailsWithConnectionError) {
  EventLoop loop;
  Config cfg = test_config();
  cfg.host = "127.0.0.1";
  cfg.port = 1;  // nothing listens on tcpmux
  EXPECT_THROW(wait(loop, Connection::connect(loop, cfg)), ConnectionError);
  cfg.host = "db.example.com";  // names are refused rather than resolved on the loop
  EXPECT_THROW(wait(loop, Connection::connect(loop, cfg)), ConnectionError);
}

TEST(PgConnection, UnknownDatabaseIsAServerError) {
  EventLoop loop;
  FA_PG_CONNECT(loop, probe);
  Config cfg = test_config();
  cfg.database = "fa_no_such_database";
  try {
    wait(loop, Connection::connect(loop, cfg));
    ADD_FAILURE() << "connect to a missing database succeeded";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.sqlstate(), "3D000");
  }
}

TEST(PgConnection, CloseFailsPendingQueries) {
  EventLoop loop;
  FA_PG_CONNECT(loop, conn);
  auto f = conn->query("SELECT pg_sleep(10)");
  loop.run_once(0);
  conn->close();
  EXPECT_THROW(wait(loop, f), ConnectionError);
  EXPECT_THROW(wait(loop, conn->query("SELECT 1")), ConnectionError);
}

}  // namespace
}  // namespace fa::pg
