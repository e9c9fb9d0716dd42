// Router lookup benchmarks over the GitHub API route table (benchmarks/micro/data).
//
//   cmake -S . -B build-router -G Ninja -DCMAKE_BUILD_TYPE=Release -DFA_BUILD_BENCH=ON
//   cmake --build build-router -j2 --target router_bench
//   build-router/router_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
//
// BM_GithubAll looks up all 203 routes once per iteration; its `sec/lookup` counter is the CPU
// time per lookup (iteration CPU time / 203, printed as e.g. 25.1n). The single cases run on the
// same table plus "GET /".
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "data/github_api_routes.h"
#include "http/router.h"

namespace {

using fa::http::Method;
using fa::http::RouteMatch;
using fa::http::Router;
using fa::http::RouteStatus;

constexpr size_t kRoutes = fa::bench::kGithubApiRoutes.size();

Method method_id(std::string_view token) {
  constexpr std::string_view kNames[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                         "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (kNames[i] == token) return static_cast<Method>(i);
  }
  return Method::kOther;
}

const Router& github_router() {
  static const Router router = [] {
    Router r;
    for (size_t i = 0; i < kRoutes; ++i) {
      const auto& route = fa::bench::kGithubApiRoutes[i];
      r.add(route.method, route.pattern, static_cast<uint32_t>(i));
    }
    r.add("GET", "/", 1000);
    return r;
  }();
  return router;
}

// Aborts the benchmark run if a lookup does not give the expected result.
void check(bool ok, std::string_view what) {
  if (!ok) {
    std::fprintf(stderr, "router_bench: wrong result for %.*s\n", static_cast<int>(what.size()),
                 what.data());
    std::abort();
  }
}

void BM_GithubAll(benchmark::State& state) {
  const Router& router = github_router();
  Method methods[kRoutes];
  for (size_t i = 0; i < kRoutes; ++i) {
    methods[i] = method_id(fa::bench::kGithubApiRoutes[i].method);
  }
  RouteMatch m;
  for (size_t i = 0; i < kRoutes; ++i) {  // verify once, outside the timed loop
    const auto& route = fa::bench::kGithubApiRoutes[i];
    router.find(methods[i], route.method, route.path, m);
    check(m.status == RouteStatus::kFound && m.handler == i, route.path);
  }
  for (auto _ : state) {
    for (size_t i = 0; i < kRoutes; ++i) {
      const auto& route = fa::bench::kGithubApiRoutes[i];
      router.find(methods[i], route.method, route.path, m);
      benchmark::DoNotOptimize(m.handler);
      benchmark::DoNotOptimize(m.num_params);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRoutes));
  state.counters["sec/lookup"] = benchmark::Counter(
      static_cast<double>(kRoutes),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_GithubAll);

// One lookup of `path` per iteration; `expect` is the status it must give.
void lookup_one(benchmark::State& state, std::string_view method, std::string_view path,
                RouteStatus expect, size_t expect_params) {
  const Router& router = github_router();
  const Method id = method_id(method);
  RouteMatch m;
  router.find(id, method, path, m);
  check(m.status == expect && m.num_params == expect_params, path);
  for (auto _ : state) {
    router.find(id, method, path, m);
    benchmark::DoNotOptimize(m.handler);
    benchmark::DoNotOptimize(m.num_params);
  }
}

void BM_StaticRoot(benchmark::State& s) {
  lookup_one(s, "GET", "/", RouteStatus::kFound, 0);
}
void BM_Static(benchmark::State& s) {
  lookup_one(s, "GET", "/user/repos", RouteStatus::kFound, 0);
}
void BM_OneParam(benchmark::State& s) {
  lookup_one(s, "GET", "/users/gopher", RouteStatus::kFound, 1);
}
void BM_ThreeParams(benchmark::State& s) {
  lookup_one(s, "GET", "/repos/julienschmidt/httprouter/issues/42/comments", RouteStatus::kFound,
             3);
}
void BM_NotFound(benchmark::State& s) {
  lookup_one(s, "GET", "/repos/julienschmidt/httprouter/nothing/here", RouteStatus::kNotFound, 0);
}
void BM_MethodNotAllowed(benchmark::State& s) {
  lookup_one(s, "PATCH", "/user/keys/12345", RouteStatus::kMethodNotAllowed, 0);
}
BENCHMARK(BM_StaticRoot);
BENCHMARK(BM_Static);
BENCHMARK(BM_OneParam);
BENCHMARK(BM_ThreeParams);
BENCHMARK(BM_NotFound);
BENCHMARK(BM_MethodNotAllowed);

}  // namespace

BENCHMARK_MAIN();
