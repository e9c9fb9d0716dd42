// pg_world_server: C++ handlers querying PostgreSQL through fa::pg::Pool on the engine's loop
// (TechEmpower's db and queries test types, World(id int, randomNumber int), 10,000 rows).
//   GET /db                 → {"id":<n>,"randomNumber":<m>} for a random id in 1..10000
//   GET /queries?queries=N  → a JSON array of N such rows (N clamped to 1..500, TFB rules)
// Usage: pg_world_server [--host H] [--port N] [--dsn postgresql://...] [--pool N]
//   The World table comes from benchmarks/techempower's schema loader (or any table named
//   world with columns id and randomnumber).
// The full TechEmpower entry on the same pieces (all seven test types, validated by
// benchmarks/techempower/validate.py) is benchmarks/techempower/cpp/tfb_server.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/run_until_signal.h"
#include "http/server.h"
#include "pg/pg_pool.h"

namespace {
constexpr const char* kSelectWorld = "SELECT id, randomnumber FROM world WHERE id = $1";
constexpr int kWorldRows = 10'000;

int random_id() {
  static std::minstd_rand rng(std::random_device{}());
  return static_cast<int>(rng() % kWorldRows) + 1;
}

void append_world(std::string& out, const fa::pg::Result& r) {
  if (r.empty()) {
    out.append("null");
    return;
  }
  out.append(R"({"id":)").append(std::to_string(r[0][0].as<int>()));
  out.append(R"(,"randomNumber":)").append(std::to_string(r[0][1].as<int>())).append("}");
}

// TFB: a missing, non-numeric or out-of-range count is clamped to 1..500.
int query_count(std::string_view query) {
  std::string_view key = "queries=";
  size_t at = query.find(key);
  if (at == std::string_view::npos) return 1;
  long n = std::strtol(std::string(query.substr(at + key.size())).c_str(), nullptr, 10);
  return n < 1 ? 1 : n > 500 ? 500 : static_cast<int>(n);
}

void send_error(const fa::http::ResponseHandle& h, std::exception_ptr e) {
  std::string msg = "database error";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    msg = ex.what();
  }
  h.send({500, "text/plain; charset=utf-8", {}}, msg);
}
}  // namespace

int main(int argc, char** argv) {
  fa::http::ServerConfig cfg;
  std::string dsn = "postgresql://postgres@127.0.0.1:5432/test";
  fa::pg::PoolOptions pool_opts{.min_size = 2, .max_size = 8};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--host" && i + 1 < argc) {
      cfg.host = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      cfg.port = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else if (a == "--dsn" && i + 1 < argc) {
      dsn = argv[++i];
    } else if (a == "--pool" && i + 1 < argc) {
      pool_opts.max_size = static_cast<size_t>(std::max(1, std::atoi(argv[++i])));
      pool_opts.min_size = std::min(pool_opts.min_size, pool_opts.max_size);
    } else {
      std::fprintf(stderr, "usage: %s [--host H] [--port N] [--dsn postgresql://...] [--pool N]\n",
                   argv[0]);
      return 2;
    }
  }

  fa::EventLoop loop;
  fa::http::Server server(loop, cfg);
  std::unique_ptr<fa::pg::Pool> pool;
  try {
    pool = std::make_unique<fa::pg::Pool>(loop, fa::pg::parse_dsn(dsn), pool_opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg_world_server: %s\n", e.what());
    return 2;
  }
  using fa::http::Request;
  using fa::http::Response;

  server.route("GET", "/db", [&pool](Request&, Response& res) {
    // The handler returns at once; the answer is sent from the query's continuation.
    (void)pool->query(kSelectWorld, {random_id()})
        .then_wrapped([h = res.detach()](fa::future<fa::pg::Result> f) {
          if (f.failed()) return send_error(h, f.get_exception());
          std::string body;
          append_world(body, f.get());
          h.send({200, "application/json", {}}, body);
        });
  });

  server.route("GET", "/queries", [&pool](Request& req, Response& res) {
    struct Batch {
      std::vector<std::string> rows;
      int remaining;
      std::exception_ptr error;
      fa::http::ResponseHandle h;
    };
    int n = query_count(req.query());
    auto batch =
        std::make_shared<Batch>(Batch{std::vector<std::string>(n), n, nullptr, res.detach()});
    // All n queries are issued in this turn: they leave in one write, pipelined.
    for (int i = 0; i < n; ++i) {
      (void)pool->query(kSelectWorld, {random_id()})
          .then_wrapped([batch, i](fa::future<fa::pg::Result> f) {
            if (f.failed()) {
              batch->error = f.get_exception();
            } else {
              append_world(batch->rows[i], f.get());
            }
            if (--batch->remaining > 0) return;
            if (batch->error) return send_error(batch->h, batch->error);
            std::string body = "[";
            for (size_t k = 0; k < batch->rows.size(); ++k) {
              if (k) body.push_back(',');
              body.append(batch->rows[k]);
            }
            body.push_back(']');
            batch->h.send({200, "application/json", {}}, body);
          });
    }
  });

  uint16_t port = 0;
  try {
    port = server.listen();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg_world_server: %s\n", e.what());
    return 1;
  }
  std::printf("pg_world_server listening on %s:%u\n", cfg.host.c_str(), port);
  std::fflush(stdout);
  fa::run_until_signal(loop);
  pool.reset();  // before the loop
  return 0;
}
