#include "tfb_routes.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "tfb_rules.h"

namespace tfb {

namespace {

using fa::future;
using fa::http::Request;
using fa::http::Response;
using fa::http::ResponseHandle;
using fa::http::ResponseHead;
using fa::pg::Pool;
using fa::pg::Result;

// TFB requires a Server header on every answer; the engine adds Date itself.
constexpr std::string_view kServer = "Server: FasterAPI\r\n";
constexpr ResponseHead kJson{200, "application/json", kServer};
constexpr ResponseHead kText{200, "text/plain", kServer};
constexpr ResponseHead kHtml{200, "text/html; charset=utf-8", kServer};

constexpr std::string_view kSelectWorld = "SELECT id, randomnumber FROM world WHERE id = $1";
constexpr std::string_view kSelectFortunes = "SELECT id, message FROM fortune";
constexpr std::string_view kSelectAllWorlds = "SELECT id, randomnumber FROM world";
// One statement for every count: the ids and new numbers as two int4 arrays, joined through
// unnest. The plan is a nested loop over unnest's rows in array order, so with the ids sorted
// concurrent batches lock their rows in the same order and cannot deadlock.
constexpr std::string_view kUpdateWorlds =
    "UPDATE world SET randomnumber = v.r FROM unnest($1::int4[], $2::int4[]) AS v(id, r) "
    "WHERE world.id = v.id";

int32_t random_id() {
  static std::minstd_rand rng(std::random_device{}());
  return static_cast<int32_t>(rng() % kWorldRows) + 1;
}

World world_of(const Result& r) {
  if (r.empty()) throw std::runtime_error("world row not found");
  return {r[0][0].as<int32_t>(), r[0][1].as<int32_t>()};
}

void send_error(const ResponseHandle& h, std::exception_ptr e) {
  std::string msg = "database error";
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::exception& ex) {
    msg = ex.what();
  } catch (...) {
  }
  h.send({500, "text/plain; charset=utf-8", kServer}, msg);
}

// n random Worlds, one query per row as TFB requires; all n are issued in this turn, so they
// leave pipelined on the pool's connections.
future<std::vector<World>> fetch_worlds(Pool& pool, int n) {
  struct Batch {
    std::vector<World> worlds;
    int pending = 0;
    std::exception_ptr error;
    fa::promise<std::vector<World>> done;
  };
  auto batch = std::make_shared<Batch>();
  batch->worlds.resize(static_cast<size_t>(n));
  batch->pending = n;
  future<std::vector<World>> out = batch->done.get_future();
  // One request's selects go to one connection (Pool::burst): they leave in its one send()
  // per loop turn; each is still its own query and Sync (TFB: no batching into a transaction).
  Pool::Burst burst = pool.burst();
  for (int i = 0; i < n; ++i) {
    (void)burst.query(kSelectWorld, {random_id()}).then_wrapped([batch, i](future<Result> f) {
      try {
        batch->worlds[static_cast<size_t>(i)] = world_of(f.get());
      } catch (...) {
        if (!batch->error) batch->error = std::current_exception();
      }
      if (--batch->pending > 0) return;
      if (batch->error) {
        batch->done.set_exception(batch->error);
      } else {
        batch->done.set_value(std::move(batch->worlds));
      }
    });
  }
  return out;
}

void append_int_array(std::string& out, const std::vector<World>& rows, int32_t World::*field) {
  out.push_back('{');
  char buf[16];
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out.push_back(',');
    out.append(buf, std::to_chars(buf, buf + sizeof buf, rows[i].*field).ptr);
  }
  out.push_back('}');
}

// Gives every World a new number and returns the batch to write: sorted by id (the lock
// order), one entry per id. A repeated id keeps one number, and every answer naming it shows
// that number, so the response matches what PostgreSQL holds afterwards.
std::vector<World> renumber(std::vector<World>& worlds) {
  std::vector<World> batch;
  batch.reserve(worlds.size());
  for (World& w : worlds) {
    w.random_number = random_id();
    batch.push_back(w);
  }
  std::sort(batch.begin(), batch.end(), [](World a, World b) { return a.id < b.id; });
  batch.erase(
      std::unique(batch.begin(), batch.end(), [](World a, World b) { return a.id == b.id; }),
      batch.end());
  for (World& w : worlds) {
    auto it = std::lower_bound(batch.begin(), batch.end(), w.id,
                               [](World b, int32_t id) { return b.id < id; });
    w.random_number = it->random_number;
  }
  return batch;
}

void db(Pool& pool, Response& res) {
  (void)pool.query(kSelectWorld, {random_id()}).then_wrapped([h = res.detach()](future<Result> f) {
    try {
      std::string body;
      append_world(body, world_of(f.get()));
      h.send(kJson, body);
    } catch (...) {
      send_error(h, std::current_exception());
    }
  });
}

void queries(Pool& pool, Request& req, Response& res) {
  (void)fetch_worlds(pool, query_count(req.query(), "queries"))
      .then_wrapped([h = res.detach()](future<std::vector<World>> f) {
        if (f.failed()) return send_error(h, f.get_exception());
        std::string body;
        append_worlds(body, f.get());
        h.send(kJson, body);
      });
}

void updates(Pool& pool, Request& req, Response& res) {
  (void)fetch_worlds(pool, query_count(req.query(), "queries"))
      .then_wrapped([&pool, h = res.detach()](future<std::vector<World>> f) {
        if (f.failed()) return send_error(h, f.get_exception());
        std::vector<World> worlds = f.get();
        std::vector<World> batch = renumber(worlds);
        std::string ids, numbers;
        append_int_array(ids, batch, &World::id);
        append_int_array(numbers, batch, &World::random_number);
        (void)pool.query(kUpdateWorlds, {ids, numbers})
            .then_wrapped([h, worlds = std::move(worlds)](future<Result> u) {
              if (u.failed()) return send_error(h, u.get_exception());
              std::string body;
              append_worlds(body, worlds);
              h.send(kJson, body);
            });
      });
}

void fortunes(Pool& pool, Response& res) {
  (void)pool.query(kSelectFortunes).then_wrapped([h = res.detach()](future<Result> f) {
    try {
      Result r = f.get();
      std::vector<Fortune> rows;
      rows.reserve(r.size() + 1);
      for (fa::pg::Row row : r) rows.push_back({row[0].as<int32_t>(), row[1].as_text()});
      h.send(kHtml, fortunes_page(std::move(rows)));
    } catch (...) {
      send_error(h, std::current_exception());
    }
  });
}

void cached_queries(const WorldCache& cache, Request& req, Response& res) {
  int n = query_count(req.query(), "count");
  std::string body;
  body.reserve(static_cast<size_t>(n) * 32 + 2);
  body.push_back('[');
  for (int i = 0; i < n; ++i) {
    if (i) body.push_back(',');
    int32_t id = random_id();
    append_world(body, {id, cache[static_cast<size_t>(id)]});
  }
  body.push_back(']');
  res.send(kJson, body);
}

}  // namespace

future<WorldCache> load_cache(Pool& pool) {
  return pool.query(kSelectAllWorlds).then([](Result r) {
    WorldCache cache(kWorldRows + 1, 0);
    for (fa::pg::Row row : r) {
      auto id = row[0].as<int32_t>();
      if (id < 1 || id > kWorldRows) throw std::runtime_error("world id out of 1..10000");
      cache[static_cast<size_t>(id)] = row[1].as<int32_t>();
    }
    if (r.size() != kWorldRows) throw std::runtime_error("world must hold 10,000 rows");
    return cache;
  });
}

void add_routes(fa::http::Server& server, Pool& pool, const WorldCache& cache) {
  server.route("GET", "/json", [](Request&, Response& res) { res.send(kJson, hello_json()); });
  server.route("GET", "/plaintext",
               [](Request&, Response& res) { res.send(kText, "Hello, World!"); });
  server.route("GET", "/db", [&pool](Request&, Response& res) { db(pool, res); });
  server.route("GET", "/queries",
               [&pool](Request& req, Response& res) { queries(pool, req, res); });
  server.route("GET", "/updates",
               [&pool](Request& req, Response& res) { updates(pool, req, res); });
  server.route("GET", "/fortunes", [&pool](Request&, Response& res) { fortunes(pool, res); });
  server.route("GET", "/cached-queries",
               [&cache](Request& req, Response& res) { cached_queries(cache, req, res); });
}

}  // namespace tfb
