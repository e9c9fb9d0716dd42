// Pool: PostgreSQL connections on the engine's EventLoop shared by every caller; queries go to
// the least busy live connection and are pipelined there (no checkout per query). A Burst
// keeps one caller's queries together on one connection (one write, one wake-up).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "core/future.h"
#include "pg/pg_connection.h"

namespace fa::pg {

struct PoolOptions {
  size_t min_size = 1;  // opened on first use, and re-opened when one breaks
  size_t max_size = 8;
  // A new connection is opened (up to max_size) while every live one has at least this many
  // queries in flight; below it, queries pipeline on the connections already open. Also the
  // most queries of one Burst a connection takes before the burst moves to the least busy one.
  size_t pipeline_depth = 16;
};

struct PoolStats {
  size_t live = 0;        // connections ready for queries
  size_t connecting = 0;  // connects under way
  size_t waiting = 0;     // queries waiting for a first connection
  uint64_t opened = 0;    // connections that reached ReadyForQuery
  uint64_t dropped = 0;   // live connections that broke and were removed
  uint64_t connect_failures = 0;
  uint64_t sends = 0;  // send() calls of every connection the pool has had (writes, syscalls)
};

// A broken connection is removed from the pool the moment it breaks (its pending queries fail
// with ConnectionError) and is never handed a query again; a new one is opened in its place
// when fewer than min_size remain. Loop-local: use it from the loop's thread only. The pool
// must outlive no loop: destroy it before its EventLoop.
class Pool {
  struct State;

 public:
  Pool(EventLoop& loop, Config config, PoolOptions options = {});
  ~Pool();  // closes every connection; pending queries fail with ConnectionError
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs sql on a pooled connection (see Connection::query). With no live connection yet, the
  // query waits for one; if the connect fails while nothing else is open or opening, it fails
  // with that error. Never blocks.
  future<Result> query(std::string_view sql, std::span<const Param> params);
  future<Result> query(std::string_view sql, std::initializer_list<Param> params = {}) {
    return query(sql, std::span<const Param>(params.begin(), params.size()));
  }
  // Resolves once min_size connections are open (fails with the first connect error).
  future<> ready();

  // Queries that belong together, e.g. the N selects of one TechEmpower /queries response:
  // through one Burst they go to one connection (the least busy when the burst starts), so
  // those issued in one loop turn leave in that connection's single end-of-turn send() and
  // their replies come back in the same reads. Each query keeps its own Sync (no shared
  // transaction; a failing one fails only its future). After pipeline_depth queries, or if its
  // connection breaks, the burst moves to the least busy connection. Independent callers should
  // use query(), which spreads them, so the server's backends work in parallel.
  class Burst {
   public:
    future<Result> query(std::string_view sql, std::span<const Param> params);
    future<Result> query(std::string_view sql, std::initializer_list<Param> params = {}) {
      return query(sql, std::span<const Param>(params.begin(), params.size()));
    }

   private:
    friend class Pool;
    explicit Burst(std::shared_ptr<State> s) : s_(std::move(s)) {}
    std::shared_ptr<State> s_;
    std::weak_ptr<Connection> conn_;  // weak: a burst never keeps a dropped connection alive
    size_t on_conn_ = 0;              // queries this burst has sent to conn_
  };
  Burst burst();

  PoolStats stats() const;
  // Closes every connection; later queries fail with ConnectionError.
  void close();

 private:
  std::shared_ptr<State> s_;  // shared with connect continuations, which may outlive the pool
};

}  // namespace fa::pg
