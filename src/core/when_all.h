// when_all / when_all_succeed: wait for every future, reporting every failure.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/future.h"
#include "core/future_errors.h"

namespace fa {

namespace detail {
// A consumed input would never resolve: treat it as failed so composition cannot hang.
template <typename T>
void fail_if_consumed(future<T>& f, const char* who) {
  if (!f.valid())
    f = make_exception_future<T>(
        std::logic_error(std::string(who) + ": input future already consumed"));
}
}  // namespace detail

// Resolves when every input is ready, with the inputs as ready futures (each holds its value
// or its exception), so the caller sees every failure. Allocates nothing if all are ready.
template <typename... T>
future<std::tuple<future<T>...>> when_all(future<T>&&... fs) {
  using result_t = std::tuple<future<T>...>;
  (detail::fail_if_consumed(fs, "fa::when_all"), ...);
  if ((fs.available() && ...)) return make_ready_future<result_t>(std::move(fs)...);
  struct state {
    explicit state(future<T>&&... f) : results(std::move(f)...) {}
    result_t results;
    size_t pending = 0;
    promise<result_t> pr;
  };
  auto st = std::make_shared<state>(std::move(fs)...);
  future<result_t> out = st->pr.get_future();
  [&]<size_t... I>(std::index_sequence<I...>) {
    st->pending = (size_t{!std::get<I>(st->results).available()} + ...);
    auto attach = [&](auto index) {
      constexpr size_t i = decltype(index)::value;
      auto& slot = std::get<i>(st->results);
      if (slot.available()) return;
      auto f = std::move(slot);
      (void)f.then_wrapped([st](auto&& done) {
        std::get<i>(st->results) = std::move(done);
        if (--st->pending == 0) st->pr.set_value(std::move(st->results));
      });
    };
    (attach(std::integral_constant<size_t, I>{}), ...);
  }
  (std::index_sequence_for<T...>{});
  return out;
}

// Resolves when every future in `fs` is ready, with all of them (in input order) ready.
template <typename T>
future<std::vector<future<T>>> when_all(std::vector<future<T>> fs) {
  size_t pending = 0;
  for (auto& f : fs) {
    detail::fail_if_consumed(f, "fa::when_all");
    pending += !f.available();
  }
  if (pending == 0) return make_ready_future<std::vector<future<T>>>(std::move(fs));
  struct state {
    std::vector<future<T>> results;
    size_t pending = 0;
    promise<std::vector<future<T>>> pr;
  };
  auto st = std::make_shared<state>();
  st->results = std::move(fs);
  st->pending = pending;
  future<std::vector<future<T>>> out = st->pr.get_future();
  for (size_t i = 0; i < st->results.size(); ++i) {
    if (st->results[i].available()) continue;
    auto f = std::move(st->results[i]);
    (void)f.then_wrapped([st, i](future<T>&& done) {
      st->results[i] = std::move(done);
      if (--st->pending == 0) st->pr.set_value(std::move(st->results));
    });
  }
  return out;
}

namespace detail {
template <typename T>
using values_of = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;
}  // namespace detail

// Resolves with every value in input order, or fails with a composite_error naming every
// input that failed (after all have finished).
template <typename T>
future<detail::values_of<T>> when_all_succeed(std::vector<future<T>> fs) {
  return when_all(std::move(fs))
      .then([](std::vector<future<T>> done) -> future<detail::values_of<T>> {
        std::vector<composite_error::failure> failures;
        for (size_t i = 0; i < done.size(); ++i) {
          if (done[i].failed()) failures.emplace_back(i, done[i].get_exception());
        }
        if (!failures.empty()) {
          return make_exception_future<detail::values_of<T>>(composite_error(std::move(failures)));
        }
        if constexpr (std::is_void_v<T>) {
          return make_ready_future<>();
        } else {
          std::vector<T> values;
          values.reserve(done.size());
          for (auto& f : done) values.push_back(f.get());
          return make_ready_future<std::vector<T>>(std::move(values));
        }
      });
}

}  // namespace fa
