// Pool against a real PostgreSQL server: queries before the first connect, spreading over
// connections, a killed backend dropped and replaced, connect failures reaching the waiters.
#include "pg/pg_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "pg_test_util.h"

namespace fa::pg {
namespace {

using testing::test_config;
using testing::wait;
using testing::wait_for;

TEST(PgPool, QueriesBeforeTheFirstConnectionWaitForIt) {
  EventLoop loop;
  FA_PG_CONNECT(loop, probe);
  Pool pool(loop, test_config(), {.min_size = 1, .max_size = 4});
  std::vector<future<Result>> fs;
  for (int i = 0; i < 200; ++i) fs.push_back(pool.query("SELECT $1::int4 + 1", {i}));
  EXPECT_EQ(pool.stats().waiting, 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(wait(loop, fs[i])[0][0].as<int>(), i + 1);
  EXPECT_GE(pool.stats().live, 1u);
  EXPECT_EQ(pool.stats().waiting, 0u);
}

TEST(PgPool, GrowsUnderLoadAndSpreadsQueries) {
  EventLoop loop;
  FA_PG_CONNECT(loop, probe);
  Pool pool(loop, test_config(), {.min_size = 1, .max_size = 3, .pipeline_depth = 4});
  wait(loop, pool.ready());
  std::set<int> pids;
  for (int round = 0; round < 20 && pids.size() < 2; ++round) {
    std::vector<future<Result>> fs;
    for (int i = 0; i < 50; ++i) fs.push_back(pool.query("SELECT pg_backend_pid()"));
    for (auto& f : fs) pids.insert(wait(loop, f)[0][0].as<int>());
  }
  EXPECT_GE(pids.size(), 2u);
  EXPECT_LE(pool.stats().live, 3u);
}

TEST(PgPool, KilledBackendIsDroppedAndTheNextQueryRunsOnANewConnection) {
  EventLoop loop;
  FA_PG_CONNECT(loop, admin);
  Pool pool(loop, test_config(), {.min_size = 1, .max_size = 1});
  wait(loop, pool.ready());
  int pid = wait(loop, pool.query("SELECT pg_backend_pid()"))[0][0].as<int>();
  Result killed = wait(loop, admin->query("SELECT pg_terminate_backend($1)", {pid}));
  EXPECT_TRUE(killed[0][0].as<bool>());
  ASSERT_TRUE(wait_for(loop, [&] { return pool.stats().dropped == 1; }));
  int pid2 = wait(loop, pool.query("SELECT pg_backend_pid()"))[0][0].as<int>();
  EXPECT_NE(pid2, pid);
  EXPECT_EQ(pool.stats().live, 1u);
  EXPECT_EQ(pool.stats().opened, 2u);
}

TEST(PgPool, BackendKilledMidQueryFailsItThenRecovers) {
  EventLoop loop;
  FA_PG_CONNECT(loop, admin);
  Pool pool(loop, test_config(), {.min_size = 1, .max_size = 1});
  wait(loop, pool.ready());
  int pid = wait(loop, pool.query("SELECT pg_backend_pid()"))[0][0].as<int>();
  auto slow = pool.query("SELECT pg_sleep(30)");
  auto behind = pool.query("SELECT 1");  // pipelined behind it on the same connection
  loop.run_once(0);
  wait(loop, admin->query("SELECT pg_terminate_backend($1)", {pid}));
  // The running query gets the server's FATAL (57P01) or the lost connection; the one behind
  // it never ran: ConnectionError.
  EXPECT_ANY_THROW(wait(loop, slow));
  EXPECT_THROW(wait(loop, behind), ConnectionError);
  EXPECT_EQ(pool.stats().dropped, 1u);
  EXPECT_EQ(wait(loop, pool.query("SELECT 7"))[0][0].as<int>(), 7);
}

TEST(PgPool, ConnectFailureFailsTheWaitingQueries) {
  EventLoop loop;
  Config cfg = test_config();
  cfg.host = "127.0.0.1";
  cfg.port = 1;
  Pool pool(loop, cfg, {.min_size = 1, .max_size = 2});
  auto a = pool.query("SELECT 1");
  auto b = pool.query("SELECT 2");
  EXPECT_THROW(wait(loop, a), ConnectionError);
  EXPECT_THROW(wait(loop, b), ConnectionError);
  EXPECT_GE(pool.stats().connect_failures, 1u);
}

TEST(PgPool, CloseFailsLaterQueries) {
  EventLoop loop;
  FA_PG_CONNECT(loop, probe);
  Pool pool(loop, test_config());
  EXPECT_EQ(wait(loop, pool.query("SELECT 1"))[0][0].as<int>(), 1);
  pool.close();
  EXPECT_THROW(wait(loop, pool.query("SELECT 1")), ConnectionError);
}

}  // namespace
}  // namespace fa::pg
