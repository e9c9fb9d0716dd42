// Chains of N continuations on fa::future (ready and not-yet-ready) vs std::promise/std::future,
// reporting time and heap allocations per continuation.
//
// std::future has no continuations, so its "continuation" is the nearest equivalent: hand the
// value through a fresh std::promise/std::future pair and apply the step after get().
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <new>

#include "core/future.h"

namespace {
std::atomic<long> g_allocs{0};
}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

namespace {

void report(benchmark::State& state, long allocs) {
  double conts = static_cast<double>(state.iterations()) * static_cast<double>(state.range(0));
  // A rate inverted is CPU seconds per continuation (shown in ns).
  state.counters["ns_per_cont"] =
      benchmark::Counter(conts, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["allocs_per_cont"] = static_cast<double>(allocs) / conts;
}

void BM_FaReadyChain(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  long before = g_allocs.load();
  for (auto _ : state) {
    fa::future<int> f = fa::make_ready_future<int>(0);
    for (int i = 0; i < n; ++i) f = f.then([](int v) { return v + 1; });
    benchmark::DoNotOptimize(f.get());
  }
  report(state, g_allocs.load() - before);
}

void BM_FaPendingChain(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  long before = g_allocs.load();
  for (auto _ : state) {
    fa::promise<int> p;
    fa::future<int> f = p.get_future();
    for (int i = 0; i < n; ++i) f = f.then([](int v) { return v + 1; });
    p.set_value(0);
    benchmark::DoNotOptimize(f.get());
  }
  report(state, g_allocs.load() - before);
}

void BM_StdFutureChain(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  long before = g_allocs.load();
  for (auto _ : state) {
    int v = 0;
    for (int i = 0; i < n; ++i) {
      std::promise<int> p;
      std::future<int> f = p.get_future();
      p.set_value(v);
      v = f.get() + 1;
    }
    benchmark::DoNotOptimize(v);
  }
  report(state, g_allocs.load() - before);
}

BENCHMARK(BM_FaReadyChain)->Arg(1)->Arg(16)->Arg(256);
BENCHMARK(BM_FaPendingChain)->Arg(1)->Arg(16)->Arg(256);
BENCHMARK(BM_StdFutureChain)->Arg(1)->Arg(16)->Arg(256);

}  // namespace

BENCHMARK_MAIN();
