// Tests for future<T>/promise<T>: ready path, chains, flattening, exceptions, broken promises,
// and an allocation count proving the ready path allocates nothing.
#include "core/future.h"
#include "core/future_repeat.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
std::atomic<long> g_allocs{0};
}  // namespace

// Counts every allocation in this test binary; tests read the difference around a region.
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

namespace fa {
namespace {

TEST(Future, ReadyThenRunsAtOnce) {
  bool ran = false;
  future<int> f = make_ready_future<int>(41).then([&](int v) {
    ran = true;
    return v + 1;
  });
  EXPECT_TRUE(ran);
  ASSERT_TRUE(f.available());
  EXPECT_EQ(f.get(), 42);
  EXPECT_FALSE(f.valid());
}

TEST(Future, ReadyPathAllocatesNothing) {
  long before = g_allocs.load();
  int out = 0;
  for (int i = 0; i < 100; ++i) {
    future<int> f = make_ready_future<int>(i)
                        .then([](int v) { return v + 1; })
                        .then([](int v) { return make_ready_future<int>(v * 2); })
                        .then([](int v) { return v - 1; });
    future<> g = make_ready_future<>().then([] {});
    g.get();
    out += f.get();
  }
  long after = g_allocs.load();
  EXPECT_EQ(after - before, 0);
  EXPECT_EQ(out, 100 * 99 + 100);  // sum of (2(i+1) - 1) for i < 100
}

TEST(Future, PendingThenAllocatesOncePerContinuation) {
  promise<int> p;
  future<int> f = p.get_future();
  long before = g_allocs.load();
  future<int> chained =
      std::move(f).then([](int v) { return v + 1; }).then([](int v) { return v * 3; });
  long after_attach = g_allocs.load();
  p.set_value(1);
  long after_run = g_allocs.load();
  EXPECT_EQ(after_attach - before, 2);
  EXPECT_EQ(after_run - after_attach, 0);
  ASSERT_TRUE(chained.available());
  EXPECT_EQ(chained.get(), 6);
}

TEST(Future, PendingChainRunsInOrderWhenFulfilled) {
  promise<std::string> p;
  std::vector<int> order;
  future<size_t> f = p.get_future()
                         .then([&](std::string s) {
                           order.push_back(1);
                           return s + "!";
                         })
                         .then([&](std::string s) {
                           order.push_back(2);
                           return s.size();
                         });
  EXPECT_TRUE(order.empty());
  EXPECT_FALSE(f.available());
  p.set_value("hello");
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(f.get(), 6u);
}

TEST(Future, SetValueBeforeGetFuture) {
  promise<int> p;
  p.set_value(7);
  future<int> f = p.get_future();
  ASSERT_TRUE(f.available());
  EXPECT_EQ(f.get(), 7);
}

TEST(Future, MovesKeepPromiseLinked) {
  auto p = std::make_unique<promise<int>>();
  future<int> f1 = p->get_future();
  future<int> f2 = std::move(f1);
  promise<int> p2 = std::move(*p);
  p.reset();  // the moved-from promise is inert: no broken_promise
  std::vector<future<int>> v;
  v.push_back(std::move(f2));
  v.reserve(64);  // reallocation moves the future again
  p2.set_value(5);
  ASSERT_TRUE(v[0].available());
  EXPECT_EQ(v[0].get(), 5);
}

TEST(Future, FlattensNotReadyInnerFuture) {
  promise<int> outer;
  promise<int> inner;
  future<int> f = outer.get_future().then(
      [&](int v) { return inner.get_future().then([v](int w) { return v + w; }); });
  outer.set_value(1);
  EXPECT_FALSE(f.available());
  inner.set_value(10);
  ASSERT_TRUE(f.available());
  EXPECT_EQ(f.get(), 11);
}

TEST(Future, ExceptionSkipsThenAndReachesHandler) {
  promise<int> p;
  bool then_ran = false;
  future<int> f = p.get_future()
                      .then([&](int v) {
                        then_ran = true;
                        return v;
                      })
                      .handle_exception([](std::exception_ptr e) {
                        try {
                          std::rethrow_exception(e);
                        } catch (const std::runtime_error& err) {
                          return std::string(err.what()) == "boom" ? -1 : -2;
                        }
                      });
  p.set_exception(std::runtime_error("boom"));
  EXPECT_FALSE(then_ran);
  EXPECT_EQ(f.get(), -1);
}

TEST(Future, ThrowingContinuationFailsTheFuture) {
  future<int> f = make_ready_future<int>(1).then([](int) -> int { throw std::out_of_range("x"); });
  ASSERT_TRUE(f.failed());
  EXPECT_THROW(f.get(), std::out_of_range);
  promise<> p;
  future<> g = p.get_future().then([] { throw std::invalid_argument("y"); });
  p.set_value();
  EXPECT_THROW(g.get(), std::invalid_argument);
}

TEST(Future, ThenWrappedSeesValueAndException) {
  future<std::string> ok = make_ready_future<int>(3).then_wrapped(
      [](future<int>&& f) { return f.failed() ? std::string("fail") : std::to_string(f.get()); });
  EXPECT_EQ(ok.get(), "3");
  promise<int> p;
  future<std::string> bad = p.get_future().then_wrapped(
      [](future<int>&& f) { return f.failed() ? std::string("fail") : std::string("ok"); });
  p.set_exception(std::logic_error("z"));
  EXPECT_EQ(bad.get(), "fail");
}

TEST(Future, BrokenPromiseIsAnError) {
  future<int> f = [] {
    promise<int> p;
    return p.get_future();
  }();
  ASSERT_TRUE(f.available());
  EXPECT_THROW(f.get(), broken_promise);

  auto p = std::make_unique<promise<int>>();
  bool handled = false;
  future<> g = p->get_future().then([](int) {}).handle_exception([&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const broken_promise&) {
      handled = true;
    }
  });
  p.reset();
  EXPECT_TRUE(handled);
  EXPECT_TRUE(g.available());
}

TEST(Future, DroppedFutureDiscardsResult) {
  promise<int> p;
  { future<int> f = p.get_future(); }
  p.set_value(1);  // nobody listens: no crash, no error
  SUCCEED();
}

TEST(Future, FinallyRunsOnBothPaths) {
  int runs = 0;
  future<int> a = make_ready_future<int>(1).finally([&] { ++runs; });
  future<int> b = make_exception_future<int>(std::runtime_error("e")).finally([&] { ++runs; });
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(a.get(), 1);
  EXPECT_THROW(b.get(), std::runtime_error);
}

TEST(Future, ThenOnConsumedFutureFails) {
  promise<int> p;
  future<int> f = p.get_future();
  future<int> g = std::move(f);
  future<int> h = f.then([](int v) { return v; });  // NOLINT(bugprone-use-after-move)
  EXPECT_THROW(h.get(), std::logic_error);
  p.set_value(1);
  EXPECT_EQ(g.get(), 1);
}

TEST(Future, LongPendingChainDoesNotDeepenStack) {
  // 100k continuations resolved through nested promises: the task queue trampolines.
  constexpr int kLinks = 100000;
  std::vector<promise<int>> ps(kLinks);
  std::vector<future<int>> fs;
  fs.reserve(kLinks);
  for (int i = 0; i < kLinks; ++i) {
    promise<int>* next = i + 1 < kLinks ? &ps[i + 1] : nullptr;
    fs.push_back(ps[i].get_future().then([next](int v) {
      if (next) next->set_value(v + 1);
      return v;
    }));
  }
  ps[0].set_value(0);
  EXPECT_EQ(fs.back().get(), kLinks - 1);
}

TEST(Future, ForwardToPendingPromiseDoesNotAllocate) {
  promise<int> src;
  promise<int> dst;
  future<int> out = dst.get_future();
  future<int> in = src.get_future();
  long before = g_allocs.load();
  in.forward_to(std::move(dst));
  EXPECT_EQ(g_allocs.load() - before, 0);
  src.set_value(9);
  EXPECT_EQ(out.get(), 9);
}

TEST(Future, FuturizeInvokeCatches) {
  future<int> f = futurize_invoke([]() -> int { throw std::runtime_error("q"); });
  EXPECT_TRUE(f.failed());
  future<int> g = futurize_invoke([](int a) { return make_ready_future<int>(a); }, 4);
  EXPECT_EQ(g.get(), 4);
}

TEST(Repeat, ReadyIterationsLoopWithoutAllocatingOrRecursing) {
  int i = 0;
  long before = g_allocs.load();
  future<> f = repeat([&] { return ++i == 1000000 ? stop_iteration::yes : stop_iteration::no; });
  EXPECT_EQ(g_allocs.load() - before, 0);
  EXPECT_TRUE(f.available());
  EXPECT_EQ(i, 1000000);
}

TEST(Repeat, WaitsOnPendingIterationsAndStopsOnError) {
  std::vector<promise<stop_iteration>> ps(3);
  size_t next = 0;
  future<> f = repeat([&] { return ps[next++].get_future(); });
  EXPECT_FALSE(f.available());
  ps[0].set_value(stop_iteration::no);
  ps[1].set_value(stop_iteration::no);
  EXPECT_FALSE(f.available());
  ps[2].set_value(stop_iteration::yes);
  ASSERT_TRUE(f.available());
  EXPECT_EQ(next, 3u);

  int calls = 0;
  future<> g = repeat([&]() -> stop_iteration {
    if (++calls == 3) throw std::runtime_error("stop");
    return stop_iteration::no;
  });
  EXPECT_EQ(calls, 3);
  EXPECT_THROW(g.get(), std::runtime_error);
}

}  // namespace
}  // namespace fa
