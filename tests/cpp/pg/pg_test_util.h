// Helpers for the C++ PostgreSQL client tests: the server from FASTERAPI_PG_DSN (default
// postgresql://postgres@127.0.0.1:5432/test), and loop runs with a deadline.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/event_loop.h"
#include "core/future.h"
#include "pg/pg_config.h"
#include "pg/pg_connection.h"

namespace fa::pg::testing {

inline Config test_config() {
  const char* dsn = std::getenv("FASTERAPI_PG_DSN");
  return parse_dsn(dsn && *dsn ? dsn : "postgresql://postgres@127.0.0.1:5432/test");
}

inline bool pg_required() {
  const char* v = std::getenv("FASTERAPI_REQUIRE_PG");
  return v && std::string(v) == "1";
}

// Runs the loop until f is ready (or throws after `limit`), then returns its value.
template <typename T>
T wait(EventLoop& loop, future<T>& f, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = Clock::now() + limit;
  while (!f.available()) {
    if (Clock::now() > deadline) throw std::runtime_error("test: future not ready in time");
    loop.run_once(20);
  }
  return f.get();
}
template <typename T>
T wait(EventLoop& loop, future<T>&& f, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  return wait(loop, f, limit);
}

// Runs the loop until pred() holds; false after `limit`.
template <typename P>
bool wait_for(EventLoop& loop, P pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    loop.run_once(20);
  }
  return true;
}

// Opens a connection to the test server, or returns null after skipping the test (failing it
// instead when FASTERAPI_REQUIRE_PG=1).
inline std::shared_ptr<Connection> connect_or_skip(EventLoop& loop, Config cfg = test_config()) {
  cfg.connect_timeout = std::chrono::seconds(5);
  try {
    return wait(loop, Connection::connect(loop, cfg));
  } catch (const std::exception& e) {
    if (pg_required()) {
      ADD_FAILURE() << "FASTERAPI_REQUIRE_PG=1 and no PostgreSQL answers at " << cfg.host << ":"
                    << cfg.port << ": " << e.what();
    } else {
      GTEST_MESSAGE_("no PostgreSQL server (set FASTERAPI_REQUIRE_PG=1 to fail instead)",
                     ::testing::TestPartResult::kSkip);
    }
    return nullptr;
  }
}

}  // namespace fa::pg::testing

// In a TEST body: connects `conn` on `loop` or returns (skipped, or failed when required).
#define FA_PG_CONNECT(loop, conn)                       \
  auto conn = ::fa::pg::testing::connect_or_skip(loop); \
  if (!conn) return
