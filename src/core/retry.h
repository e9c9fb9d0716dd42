// retry: re-run an asynchronous operation with exponential backoff and jitter.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <utility>

#include "core/future.h"
#include "core/future_timers.h"

namespace fa {

struct retry_policy {
  int max_retries = 3;                                      // attempts after the first
  Duration initial_delay = std::chrono::milliseconds(100);  // before the first retry
  double backoff = 2.0;                                     // delay multiplier per retry
  Duration max_delay = std::chrono::seconds(30);            // cap on one delay, before jitter
  // Fraction of the delay drawn at random: the delay is scaled by a factor uniform in
  // [1 - jitter, 1 + jitter], so many clients that failed together do not retry together.
  double jitter = 0.1;
  // Retry only failures for which this returns true (empty: retry every failure).
  std::function<bool(const std::exception_ptr&)> retry_if;
  // Uniform draws in [0, 1) for the jitter (empty: a per-thread Mersenne Twister).
  std::function<double()> random;
};

// The delay before retry number `retry` (0 for the first retry), given a uniform draw u in [0, 1).
inline Duration retry_delay(const retry_policy& p, int retry, double u) {
  double base = std::chrono::duration<double>(p.initial_delay).count();
  double cap = std::chrono::duration<double>(p.max_delay).count();
  for (int i = 0; i < retry && base < cap; ++i) base *= p.backoff;
  base = std::min(base, cap);
  double factor = 1.0 + p.jitter * (2.0 * u - 1.0);
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(base * factor));
}

namespace detail {

inline double default_uniform() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

template <typename L, typename F, typename T>
struct retry_state {
  retry_state(L& t, F&& f, retry_policy&& p) : timers(t), fn(std::move(f)), policy(std::move(p)) {}
  L& timers;
  F fn;
  retry_policy policy;
  int retries = 0;
  promise<T> pr;

  static void attempt(std::shared_ptr<retry_state> st) {
    (void)futurize_invoke(st->fn).then_wrapped([st](future<T>&& f) mutable {
      if (!f.failed()) return f.forward_to(std::move(st->pr));
      std::exception_ptr e = f.get_exception();
      const retry_policy& p = st->policy;
      if (st->retries >= p.max_retries || (p.retry_if && !p.retry_if(e))) {
        return st->pr.set_exception(std::move(e));
      }
      double u = p.random ? p.random() : default_uniform();
      Duration delay = retry_delay(p, st->retries++, u);
      st->timers.call_later(delay, [st]() mutable { attempt(std::move(st)); });
    });
  }
};

}  // namespace detail

// Calls fn() (which returns a T or a future<T>) until it succeeds, a failure is not retryable,
// or max_retries retries have failed; then resolves with the value or the last exception.
template <TimerSource L, typename F>
auto retry(L& timers, F fn, retry_policy policy = {}) {
  using Fut = futurize_t<std::invoke_result_t<F&>>;
  using T = typename Fut::value_type;
  using state = detail::retry_state<L, F, T>;
  auto st = std::make_shared<state>(timers, std::move(fn), std::move(policy));
  Fut out = st->pr.get_future();
  state::attempt(st);
  return out;
}

}  // namespace fa
