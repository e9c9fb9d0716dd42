// pg_pool_bench: client CPU per query of fa::pg::Pool (the C++ pool on the engine's loop) on
// single-row primary-key selects, the shape of TechEmpower's db test.
// Usage: pg_pool_bench [--dsn postgresql://...] [--seconds S] [--conns N] [--concurrency C]...
//   Creates fa_pg_bench_world (10,000 rows) if missing. For each concurrency C (default 1, 16,
//   64, 256) keeps C queries in flight for S seconds and prints qps and client CPU µs/query
//   (getrusage user+sys of this process divided by the queries answered).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "pg/pg_pool.h"

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

template <typename T>
T run(fa::EventLoop& loop, fa::future<T> f) {
  while (!f.available()) loop.run_once(10);
  return f.get();
}

struct Runner {
  fa::pg::Pool& pool;
  std::minstd_rand rng{42};
  bool stopping = false;
  uint64_t done = 0, errors = 0, in_flight = 0;
  int64_t sink = 0;

  void issue() {
    ++in_flight;
    int id = static_cast<int>(rng() % 10'000) + 1;
    (void)pool.query("SELECT id, randomnumber FROM fa_pg_bench_world WHERE id = $1", {id})
        .then_wrapped([this](fa::future<fa::pg::Result> f) {
          --in_flight;
          if (f.failed()) {
            (void)f.get_exception();
            ++errors;
          } else {
            fa::pg::Result r = f.get();
            sink += r[0][1].as<int>();
            ++done;
          }
          if (!stopping) issue();
        });
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string dsn = "postgresql://postgres@127.0.0.1:5432/test";
  double seconds = 3;
  size_t conns = 8;
  std::vector<int> levels;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dsn" && i + 1 < argc)
      dsn = argv[++i];
    else if (a == "--seconds" && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (a == "--conns" && i + 1 < argc)
      conns = static_cast<size_t>(std::atoi(argv[++i]));
    else if (a == "--concurrency" && i + 1 < argc)
      levels.push_back(std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: %s [--dsn D] [--seconds S] [--conns N] [--concurrency C]...\n",
                   argv[0]);
      return 2;
    }
  }
  if (levels.empty()) levels = {1, 16, 64, 256};

  fa::EventLoop loop;
  fa::pg::Pool pool(loop, fa::pg::parse_dsn(dsn), {.min_size = conns, .max_size = conns});
  try {
    run(loop, pool.ready());
    run(loop, pool.query("CREATE TABLE IF NOT EXISTS fa_pg_bench_world (id int4 PRIMARY KEY, "
                         "randomnumber int4 NOT NULL)"));
    if (run(loop, pool.query("SELECT count(*)::int4 FROM fa_pg_bench_world"))[0][0].as<int>() !=
        10'000) {
      run(loop, pool.query("TRUNCATE fa_pg_bench_world"));
      run(loop, pool.query("INSERT INTO fa_pg_bench_world SELECT g, (random() * 9999)::int4 + 1 "
                           "FROM generate_series(1, 10000) g"));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg_pool_bench: %s\n", e.what());
    return 1;
  }
  std::printf("%-12s %12s %14s %8s\n", "concurrency", "qps", "client_us/q", "errors");
  for (int c : levels) {
    Runner r{pool};
    for (int i = 0; i < c; ++i) r.issue();
    // Warm up (statement cache, connections) before measuring.
    auto warm = fa::Clock::now() + std::chrono::milliseconds(300);
    while (fa::Clock::now() < warm) loop.run_once(10);
    uint64_t d0 = r.done;
    double cpu0 = cpu_seconds();
    auto t0 = fa::Clock::now();
    auto end =
        t0 + std::chrono::duration_cast<fa::Duration>(std::chrono::duration<double>(seconds));
    while (fa::Clock::now() < end) loop.run_once(10);
    double wall = std::chrono::duration<double>(fa::Clock::now() - t0).count();
    double cpu = cpu_seconds() - cpu0;
    uint64_t n = r.done - d0;
    r.stopping = true;
    while (r.in_flight > 0) loop.run_once(10);
    std::printf("%-12d %12.0f %14.2f %8llu\n", c, static_cast<double>(n) / wall,
                n ? cpu * 1e6 / static_cast<double>(n) : 0.0,
                static_cast<unsigned long long>(r.errors));
    std::fflush(stdout);
  }
  pool.close();
  loop.run_once(0);
  return 0;
}
