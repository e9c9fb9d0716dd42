// tfb_server: the C++ engine's TechEmpower entry (run.py's `fasterapi-cpp`): the seven test
// types as C++ handlers on http::Server with fa::pg::Pool on the same EventLoop.
// Usage: tfb_server [--host H] [--port N] [--dsn postgresql://...] [--pool N]
//                   [--loop epoll|uring|auto]
//   Defaults from the environment as every entry in benchmarks/techempower takes them: PORT
//   (8080), FASTERAPI_PG_DSN, TFB_POOL_SIZE (8), FASTERAPI_LOOP (epoll). The schema comes from
//   benchmarks/techempower/schema.py.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "core/run_until_signal.h"
#include "http/server.h"
#include "pg/pg_pool.h"
#include "tfb_routes.h"

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--host H] [--port N] [--dsn postgresql://...] [--pool N] "
               "[--loop epoll|uring|auto]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  fa::http::ServerConfig cfg;
  cfg.port = static_cast<uint16_t>(std::atoi(env_or("PORT", "8080").c_str()));
  std::string dsn = env_or("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test");
  int pool_size = std::atoi(env_or("TFB_POOL_SIZE", "8").c_str());
  fa::LoopBackend backend = fa::default_loop_backend();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    if (a == "--host") {
      cfg.host = argv[++i];
    } else if (a == "--port") {
      cfg.port = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else if (a == "--dsn") {
      dsn = argv[++i];
    } else if (a == "--pool") {
      pool_size = std::atoi(argv[++i]);
    } else if (a == "--loop") {
      if (!fa::parse_loop_backend(argv[++i], &backend)) return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }
  if (pool_size < 1) return usage(argv[0]);

  fa::EventLoop loop(backend);
  std::unique_ptr<fa::pg::Pool> pool;
  tfb::WorldCache cache;
  try {
    auto size = static_cast<size_t>(pool_size);
    pool = std::make_unique<fa::pg::Pool>(loop, fa::pg::parse_dsn(dsn),
                                          fa::pg::PoolOptions{.min_size = size, .max_size = size});
    // The cache and the pool's connections are ready before the first request is accepted.
    auto loaded = tfb::load_cache(*pool);
    auto deadline = fa::Clock::now() + std::chrono::seconds(30);
    while (!loaded.available() && fa::Clock::now() < deadline) loop.run_once(50);
    if (!loaded.available()) throw std::runtime_error("PostgreSQL did not answer in 30 s");
    cache = loaded.get();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tfb_server: %s\n", e.what());
    return 2;
  }

  uint16_t port = 0;
  {
    fa::http::Server server(loop, cfg);
    tfb::add_routes(server, *pool, cache);
    try {
      port = server.listen();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tfb_server: %s\n", e.what());
      return 1;
    }
    std::printf("tfb_server listening on %s:%u (%s loop, %d PostgreSQL connections)\n",
                cfg.host.c_str(), port, fa::loop_backend_name(loop.backend()), pool_size);
    std::fflush(stdout);
    fa::run_until_signal(loop);
  }              // the server closes its connections before the pool goes
  pool.reset();  // before the loop
  return 0;
}
