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

// TFB's /queries shape: one handler issues its queries in one turn through a Burst. They land
// on one connection and leave in one send() (PoolStats::sends counts the real syscalls), each
// with its own Sync, answered in order; plain query() calls spread over the idle connections.
TEST(PgPool, ABurstSharesOneConnectionAndOneWrite) {
  EventLoop loop;
  FA_PG_CONNECT(loop, probe);
  Pool pool(loop, test_config(), {.min_size = 4, .max_size = 4, .pipeline_depth = 32});
  wait(loop, pool.ready());
  ASSERT_EQ(pool.stats().live, 4u);
  // Warm the statement cache of every connection, so the burst below is Bind/Execute/Sync only.
  for (int round = 0; round < 4; ++round) {
    std::vector<future<Result>> warm;
    for (int i = 0; i < 40; ++i)
      warm.push_back(pool.query("SELECT $1::int4, pg_backend_pid()", {i}));
    for (auto& f : warm) wait(loop, f);
  }
  uint64_t sends_before = pool.stats().sends;
  auto burst = pool.burst();
  std::vector<future<Result>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(burst.query("SELECT $1::int4, pg_backend_pid()", {i}));
  EXPECT_EQ(pool.stats().sends, sends_before);  // nothing written before the turn ends
  std::set<int> pids;
  for (int i = 0; i < 20; ++i) {
    Result r = wait(loop, fs[i]);
    EXPECT_EQ(r[0][0].as<int>(), i);
    pids.insert(r[0][1].as<int>());
  }
  EXPECT_EQ(pids.size(), 1u);
  EXPECT_EQ(pool.stats().sends - sends_before, 1u);

  // Independent queries: each to the least busy connection, one write per connection.
  sends_before = pool.stats().sends;
  fs.clear();
  for (int i = 0; i < 20; ++i) fs.push_back(pool.query("SELECT $1::int4, pg_backend_pid()", {i}));
  pids.clear();
  for (auto& f : fs) pids.insert(wait(loop, f)[0][1].as<int>());
  EXPECT_EQ(pids.size(), 4u);
  EXPECT_EQ(pool.stats().sends - sends_before, 4u);
}

// A burst larger than pipeline_depth spreads: pipeline_depth queries per connection and write.
TEST(PgPool, ABurstBeyondPipelineDepthMovesToTheNextConnection) {
  EventLoop loop;
  FA_PG_CONNECT(loop, probe);
  Pool pool(loop, test_config(), {.min_size = 3, .max_size = 3, .pipeline_depth = 8});
  wait(loop, pool.ready());
  wait(loop, pool.query("SELECT 1"));
  uint64_t sends_before = pool.stats().sends;
  auto burst = pool.burst();
  std::vector<future<Result>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(burst.query("SELECT pg_backend_pid()"));
  std::vector<int> pids;
  for (auto& f : fs) pids.push_back(wait(loop, f)[0][0].as<int>());
  // In issue order: 8 on one backend, the next 8 on another, the last 4 on the third.
  EXPECT_EQ(std::set<int>(pids.begin(), pids.begin() + 8).size(), 1u);
  EXPECT_EQ(std::set<int>(pids.begin() + 8, pids.begin() + 16).size(), 1u);
  EXPECT_EQ(std::set<int>(pids.begin() + 16, pids.end()).size(), 1u);
  EXPECT_EQ(std::set<int>(pids.begin(), pids.end()).size(), 3u);
  EXPECT_EQ(pool.stats().sends - sends_before, 3u);
}

// Sharing a write shares no transaction: a query failing in the middle of the burst fails only
// its own future.
TEST(PgPool, AFailingQueryInABurstFailsOnlyItself) {
  EventLoop loop;
  FA_PG_CONNECT(loop, probe);
  Pool pool(loop, test_config(), {.min_size = 2, .max_size = 2, .pipeline_depth = 32});
  wait(loop, pool.ready());
  uint64_t sends_before = pool.stats().sends;
  auto burst = pool.burst();
  std::vector<future<Result>> fs;
  for (int i = 0; i < 20; ++i)
    fs.push_back(burst.query("SELECT 100 / $1::int4, pg_backend_pid()", {i == 10 ? 0 : i + 1}));
  std::set<int> pids;
  for (int i = 0; i < 20; ++i) {
    if (i == 10) {
      try {
        wait(loop, fs[i]);
        ADD_FAILURE() << "division by zero succeeded";
      } catch (const ServerError& e) {
        EXPECT_EQ(e.sqlstate(), "22012");
      }
      continue;
    }
    Result r = wait(loop, fs[i]);
    EXPECT_EQ(r[0][0].as<int>(), 100 / (i + 1));
    pids.insert(r[0][1].as<int>());
  }
  EXPECT_EQ(pids.size(), 1u);
  // Parse + Describe of the first use travel in the same single write.
  EXPECT_EQ(pool.stats().sends - sends_before, 1u);
}

// A burst's connection breaking fails what it holds; the burst's next queries go, together, to
// a live connection, never to the broken one.
TEST(PgPool, ABrokenBurstConnectionFailsItsQueriesAndIsNotReused) {
  EventLoop loop;
  FA_PG_CONNECT(loop, admin);
  Pool pool(loop, test_config(), {.min_size = 2, .max_size = 2, .pipeline_depth = 32});
  wait(loop, pool.ready());
  auto burst = pool.burst();
  auto first = burst.query("SELECT pg_backend_pid()");
  auto slow = burst.query("SELECT pg_sleep(30)");
  std::vector<future<Result>> behind;
  for (int i = 0; i < 5; ++i) behind.push_back(burst.query("SELECT $1::int4", {i}));
  int pid = wait(loop, first)[0][0].as<int>();
  wait(loop, admin->query("SELECT pg_terminate_backend($1)", {pid}));
  EXPECT_ANY_THROW(wait(loop, slow));
  for (auto& f : behind) EXPECT_THROW(wait(loop, f), ConnectionError);
  ASSERT_TRUE(wait_for(loop, [&] { return pool.stats().dropped == 1; }));
  std::vector<future<Result>> next;
  for (int i = 0; i < 20; ++i) next.push_back(burst.query("SELECT pg_backend_pid()"));
  std::set<int> pids;
  for (auto& f : next) pids.insert(wait(loop, f)[0][0].as<int>());
  EXPECT_EQ(pids.size(), 1u);
  EXPECT_EQ(pids.count(pid), 0u);
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
