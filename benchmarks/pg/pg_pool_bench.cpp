// pg_pool_bench: client CPU per query of fa::pg::Pool (the C++ pool on the engine's loop) on
// single-row primary-key selects, the shape of TechEmpower's db test (--burst 20: queries).
// Usage: pg_pool_bench [--dsn postgresql://...] [--seconds S] [--conns N] [--concurrency C]...
//                      [--burst N [--spread]]
//   Creates fa_pg_bench_world (10,000 rows) if missing. For each concurrency C (default 1, 16,
//   64, 256) keeps C requests in flight for S seconds and prints qps and client CPU µs/query
//   (getrusage user+sys of this process divided by the queries answered) and the send() calls
//   per request. A request is one query, or with --burst N, N queries issued in one turn
//   through one Pool::Burst (--spread: through pool.query, over the least busy connections).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
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

constexpr const char* kSelect = "SELECT id, randomnumber FROM fa_pg_bench_world WHERE id = $1";

struct Runner {
  fa::pg::Pool& pool;
  int burst = 1;  // queries per request
  bool spread = false;
  std::minstd_rand rng{42};
  bool stopping = false;
  uint64_t done = 0, errors = 0, in_flight = 0, requests = 0;
  int64_t sink = 0;

  void issue() {
    ++in_flight;
    auto left = std::make_shared<int>(burst);
    auto on_reply = [this, left](fa::future<fa::pg::Result> f) {
      if (f.failed()) {
        (void)f.get_exception();
        ++errors;
      } else {
        fa::pg::Result r = f.get();
        sink += r[0][1].as<int>();
        ++done;
      }
      if (--*left > 0) return;
      --in_flight;
      ++requests;
      if (!stopping) issue();
    };
    if (burst == 1 || spread) {
      for (int i = 0; i < burst; ++i) (void)pool.query(kSelect, {next_id()}).then_wrapped(on_reply);
      return;
    }
    auto b = pool.burst();
    for (int i = 0; i < burst; ++i) (void)b.query(kSelect, {next_id()}).then_wrapped(on_reply);
  }
  int next_id() { return static_cast<int>(rng() % 10'000) + 1; }
};

}  // namespace

int main(int argc, char** argv) {
  std::string dsn = "postgresql://postgres@127.0.0.1:5432/test";
  double seconds = 3;
  size_t conns = 8;
  std::vector<int> levels;
  int burst = 1;
  bool spread = false;
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
    else if (a == "--burst" && i + 1 < argc)
      burst = std::max(1, std::atoi(argv[++i]));
    else if (a == "--spread")
      spread = true;
    else {
      std::fprintf(stderr,
                   "usage: %s [--dsn D] [--seconds S] [--conns N] [--concurrency C]... "
                   "[--burst N [--spread]]\n",
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
  std::printf("%-12s %12s %14s %10s %8s\n", "concurrency", "qps", "client_us/q", "sends/req",
              "errors");
  for (int c : levels) {
    Runner r{pool, burst, spread};
    for (int i = 0; i < c; ++i) r.issue();
    // Warm up (statement cache, connections) before measuring.
    auto warm = fa::Clock::now() + std::chrono::milliseconds(300);
    while (fa::Clock::now() < warm) loop.run_once(10);
    uint64_t d0 = r.done, req0 = r.requests, sends0 = pool.stats().sends;
    double cpu0 = cpu_seconds();
    auto t0 = fa::Clock::now();
    auto end =
        t0 + std::chrono::duration_cast<fa::Duration>(std::chrono::duration<double>(seconds));
    while (fa::Clock::now() < end) loop.run_once(10);
    double wall = std::chrono::duration<double>(fa::Clock::now() - t0).count();
    double cpu = cpu_seconds() - cpu0;
    uint64_t n = r.done - d0, reqs = r.requests - req0, sends = pool.stats().sends - sends0;
    r.stopping = true;
    while (r.in_flight > 0) loop.run_once(10);
    std::printf("%-12d %12.0f %14.2f %10.2f %8llu\n", c, static_cast<double>(n) / wall,
                n ? cpu * 1e6 / static_cast<double>(n) : 0.0,
                reqs ? static_cast<double>(sends) / static_cast<double>(reqs) : 0.0,
                static_cast<unsigned long long>(r.errors));
    std::fflush(stdout);
  }
  pool.close();
  loop.run_once(0);
  return 0;
}
