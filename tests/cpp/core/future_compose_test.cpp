// Tests for future composition: when_all, when_any, with_timeout, retry, and the bounded
// parallel helpers, driven by a fake clock (ordering and counts only, never wall time).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/future.h"
#include "core/future_parallel.h"
#include "core/future_timers.h"
#include "core/retry.h"
#include "core/when_all.h"
#include "core/when_any.h"

namespace fa {
namespace {

using std::chrono::milliseconds;

// A TimerSource whose time moves only when the test calls advance().
class FakeTimers {
 public:
  TimerId call_later(Duration d, std::function<void()> fn) {
    TimerId id = next_id_++;
    timers_.emplace(id, Entry{now_ + d, std::move(fn)});
    delays_.push_back(d);
    return id;
  }
  bool cancel(TimerId id) { return timers_.erase(id) > 0; }
  // Moves time forward by d, firing due timers in deadline order.
  void advance(Duration d) {
    Duration until = now_ + d;
    for (;;) {
      auto due = timers_.end();
      for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->second.when <= until &&
            (due == timers_.end() || it->second.when < due->second.when))
          due = it;
      }
      if (due == timers_.end()) break;
      now_ = due->second.when;
      auto fn = std::move(due->second.fn);
      timers_.erase(due);
      fn();
    }
    now_ = until;
  }
  size_t pending() const { return timers_.size(); }
  const std::vector<Duration>& delays() const { return delays_; }

 private:
  struct Entry {
    Duration when;
    std::function<void()> fn;
  };
  Duration now_{0};
  TimerId next_id_ = 1;
  std::map<TimerId, Entry> timers_;
  std::vector<Duration> delays_;
};

// Counts live instances so tests can prove nothing is leaked.
struct Tracked {
  static inline int live = 0;
  int v;
  explicit Tracked(int x) : v(x) { ++live; }
  Tracked(Tracked&& o) noexcept : v(o.v) { ++live; }
  Tracked& operator=(Tracked&&) = default;
  ~Tracked() { --live; }
};

TEST(WhenAll, VariadicReadyAndPending) {
  promise<std::string> p;
  auto f = when_all(make_ready_future<int>(1), p.get_future(), make_ready_future<>());
  EXPECT_FALSE(f.available());
  p.set_value("two");
  ASSERT_TRUE(f.available());
  auto [a, b, c] = f.get();
  EXPECT_EQ(a.get(), 1);
  EXPECT_EQ(b.get(), "two");
  EXPECT_NO_THROW(c.get());
}

TEST(WhenAll, RangeReportsEveryFailure) {
  std::vector<promise<int>> ps(4);
  std::vector<future<int>> fs;
  for (auto& p : ps) fs.push_back(p.get_future());
  auto all = when_all(std::move(fs));
  ps[2].set_exception(std::runtime_error("two"));
  ps[0].set_value(0);
  ps[3].set_exception(std::runtime_error("three"));
  EXPECT_FALSE(all.available());  // waits for every input, failures included
  ps[1].set_value(1);
  auto done = all.get();
  ASSERT_EQ(done.size(), 4u);
  EXPECT_EQ(done[0].get(), 0);
  EXPECT_EQ(done[1].get(), 1);
  EXPECT_TRUE(done[2].failed());
  EXPECT_TRUE(done[3].failed());
}

TEST(WhenAll, SucceedCollectsValuesOrAllFailures) {
  std::vector<future<int>> ok;
  for (int i = 0; i < 3; ++i) ok.push_back(make_ready_future<int>(i * 10));
  EXPECT_EQ(when_all_succeed(std::move(ok)).get(), (std::vector<int>{0, 10, 20}));

  promise<int> p;
  std::vector<future<int>> mixed;
  mixed.push_back(make_exception_future<int>(std::runtime_error("a")));
  mixed.push_back(p.get_future());
  mixed.push_back(make_exception_future<int>(std::logic_error("b")));
  auto f = when_all_succeed(std::move(mixed));
  p.set_value(5);
  try {
    f.get();
    FAIL() << "expected composite_error";
  } catch (const composite_error& e) {
    ASSERT_EQ(e.failures().size(), 2u);
    EXPECT_EQ(e.failures()[0].first, 0u);
    EXPECT_EQ(e.failures()[1].first, 2u);
    EXPECT_NE(std::string(e.what()).find("#2: b"), std::string::npos);
  }
}

TEST(WhenAny, FirstToFinishWinsAndOthersAreNotLeaked) {
  Tracked::live = 0;
  {
    std::vector<promise<Tracked>> ps(3);
    std::vector<future<Tracked>> fs;
    for (auto& p : ps) fs.push_back(p.get_future());
    auto any = when_any(std::move(fs));
    ps[1].set_value(Tracked(11));
    ASSERT_TRUE(any.available());
    auto r = any.get();
    EXPECT_EQ(r.index, 1u);
    EXPECT_EQ(r.result.get().v, 11);
    ps[0].set_value(Tracked(10));  // late results are dropped
    EXPECT_EQ(Tracked::live, 0);
  }  // ps[2] is destroyed unfulfilled: its continuation gets broken_promise and frees the state
  EXPECT_EQ(Tracked::live, 0);
}

TEST(WhenAny, ReportsFailureOfFirstAndEmptyInput) {
  promise<int> a, b;
  std::vector<future<int>> fs;
  fs.push_back(a.get_future());
  fs.push_back(b.get_future());
  auto any = when_any(std::move(fs));
  b.set_exception(std::runtime_error("b"));
  auto r = any.get();
  EXPECT_EQ(r.index, 1u);
  EXPECT_THROW(r.result.get(), std::runtime_error);
  EXPECT_THROW(when_any(std::vector<future<int>>{}).get(), std::invalid_argument);
}

TEST(WithTimeout, FiresWhenTheFutureIsLate) {
  FakeTimers t;
  promise<int> p;
  auto f = with_timeout(t, milliseconds(50), p.get_future());
  t.advance(milliseconds(49));
  EXPECT_FALSE(f.available());
  t.advance(milliseconds(1));
  ASSERT_TRUE(f.available());
  EXPECT_THROW(f.get(), timed_out_error);
  p.set_value(1);  // too late: discarded, no crash
}

TEST(WithTimeout, DoesNotFireWhenTheFutureWins) {
  FakeTimers t;
  promise<int> p;
  auto f = with_timeout(t, milliseconds(50), p.get_future());
  EXPECT_EQ(t.pending(), 1u);
  p.set_value(3);
  EXPECT_EQ(t.pending(), 0u);  // the timer was cancelled
  EXPECT_EQ(f.get(), 3);
  auto ready = with_timeout(t, milliseconds(1), make_ready_future<int>(4));
  EXPECT_EQ(t.pending(), 0u);  // ready input: no timer at all
  EXPECT_EQ(ready.get(), 4);
}

TEST(Retry, SucceedsAfterFailuresWithExponentialBackoff) {
  FakeTimers t;
  int calls = 0;
  retry_policy pol;
  pol.max_retries = 5;
  pol.initial_delay = milliseconds(10);
  pol.backoff = 2.0;
  pol.jitter = 0.0;
  auto f = retry(
      t,
      [&]() -> future<int> {
        ++calls;
        if (calls < 4) return make_exception_future<int>(std::runtime_error("flaky"));
        return make_ready_future<int>(calls);
      },
      pol);
  EXPECT_EQ(calls, 1);
  t.advance(milliseconds(10));
  EXPECT_EQ(calls, 2);
  t.advance(milliseconds(20));
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(f.available());
  t.advance(milliseconds(40));
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(f.get(), 4);
  EXPECT_EQ(t.delays(),
            (std::vector<Duration>{milliseconds(10), milliseconds(20), milliseconds(40)}));
}

TEST(Retry, GivesUpAfterMaxRetriesWithLastError) {
  FakeTimers t;
  int calls = 0;
  retry_policy pol;
  pol.max_retries = 2;
  pol.initial_delay = milliseconds(1);
  auto f = retry(
      t, [&]() -> int { throw std::runtime_error("fail " + std::to_string(++calls)); }, pol);
  t.advance(std::chrono::seconds(1));
  EXPECT_EQ(calls, 3);  // the first attempt and two retries
  try {
    f.get();
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "fail 3");
  }
}

TEST(Retry, JitterAndCapAndRetryIf) {
  retry_policy pol;
  pol.initial_delay = milliseconds(100);
  pol.backoff = 3.0;
  pol.max_delay = milliseconds(500);
  pol.jitter = 0.5;
  EXPECT_EQ(retry_delay(pol, 0, 0.0), milliseconds(50));   // 100 * (1 - 0.5)
  EXPECT_EQ(retry_delay(pol, 1, 1.0), milliseconds(450));  // 300 * (1 + 0.5)
  EXPECT_EQ(retry_delay(pol, 4, 0.5), milliseconds(500));  // capped, u=0.5 is no jitter

  FakeTimers t;
  int calls = 0;
  retry_policy only_runtime;
  only_runtime.retry_if = [](const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::runtime_error&) {
      return true;
    } catch (...) {
      return false;
    }
  };
  only_runtime.random = [] { return 0.5; };
  auto f = retry(
      t,
      [&]() -> future<> {
        ++calls;
        if (calls == 1) return make_exception_future<>(std::runtime_error("retry me"));
        return make_exception_future<>(std::logic_error("fatal"));
      },
      only_runtime);
  t.advance(std::chrono::seconds(1));
  EXPECT_EQ(calls, 2);
  EXPECT_THROW(f.get(), std::logic_error);
}

TEST(Parallel, ForEachRespectsConcurrencyBound) {
  std::vector<promise<>> ps(6);
  size_t in_flight = 0, peak = 0;
  std::vector<int> items{0, 1, 2, 3, 4, 5};
  auto f = parallel_for_each(
      items,
      [&](int i) {
        peak = std::max(peak, ++in_flight);
        return ps[i].get_future().then([&] { --in_flight; });
      },
      2);
  EXPECT_EQ(in_flight, 2u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(f.available());
    ps[i].set_value();
  }
  EXPECT_EQ(peak, 2u);
  ASSERT_TRUE(f.available());
  EXPECT_NO_THROW(f.get());
}

TEST(Parallel, MapKeepsInputOrderAndReportsFailures) {
  std::vector<promise<int>> ps(3);
  auto f = parallel_map(
      std::vector<int>{0, 1, 2}, [&](int i) { return ps[i].get_future(); }, 3);
  ps[2].set_value(20);
  ps[0].set_value(0);
  ps[1].set_value(10);
  EXPECT_EQ(f.get(), (std::vector<int>{0, 10, 20}));

  auto g = parallel_map(std::vector<int>{1, 2, 3, 4}, [](int i) -> int {
    if (i % 2 == 0) throw std::runtime_error("even");
    return i;
  });
  try {
    g.get();
    FAIL();
  } catch (const composite_error& e) {
    ASSERT_EQ(e.failures().size(), 2u);
    EXPECT_EQ(e.failures()[0].first, 1u);
    EXPECT_EQ(e.failures()[1].first, 3u);
  }
  EXPECT_THROW(parallel_map(
                   std::vector<int>{1}, [](int i) { return i; }, 0)
                   .get(),
               std::invalid_argument);
}

TEST(Parallel, MapReduceSumsManyReadyResultsWithoutDeepStack) {
  std::vector<int> items(100000);
  for (int i = 0; i < 100000; ++i) items[i] = i;
  auto f = map_reduce(
      items, [](int i) { return make_ready_future<long>(i); }, 0L,
      [](long acc, long v) { return acc + v; }, 4);
  EXPECT_EQ(f.get(), 4999950000L);
}

}  // namespace
}  // namespace fa

namespace fa {
namespace {

TEST(Composition, ConsumedInputsFailInsteadOfHanging) {
  promise<int> p;
  future<int> f = p.get_future();
  future<int> taken = std::move(f);
  std::vector<future<int>> fs;
  fs.push_back(std::move(f));  // NOLINT(bugprone-use-after-move): deliberately consumed
  auto all = when_all(std::move(fs));
  ASSERT_TRUE(all.available());
  EXPECT_THROW(all.get()[0].get(), std::logic_error);
  FakeTimers t;
  EXPECT_THROW(with_timeout(t, std::chrono::seconds(1), std::move(f)).get(), std::logic_error);
  EXPECT_EQ(t.pending(), 0u);
  p.set_value(1);
  EXPECT_EQ(taken.get(), 1);
}

}  // namespace
}  // namespace fa
