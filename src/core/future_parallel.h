// parallel_for_each / parallel_map / map_reduce: run an async function over a range with a
// bound on how many calls are in flight at once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/future.h"
#include "core/future_errors.h"

namespace fa {

// No bound: every call starts at once.
inline constexpr size_t kUnboundedConcurrency = static_cast<size_t>(-1);

namespace detail {

// Starts fn(items[i]) while fewer than `limit` calls are in flight, hands each outcome to
// on_result(i, future) and each failure to the failure list; `finish` runs once all are done.
// A loop (not recursion) starts the next calls, so ready futures do not deepen the stack.
template <typename Item, typename F, typename OnResult>
struct bounded_pump {
  using R = futurize_t<std::invoke_result_t<F&, Item&>>;
  bounded_pump(std::vector<Item> i, F f, OnResult r, size_t l)
      : items(std::move(i)), fn(std::move(f)), on_result(std::move(r)), limit(l) {}
  std::vector<Item> items;
  F fn;
  OnResult on_result;
  size_t limit;
  size_t next = 0;
  size_t in_flight = 0;
  bool pumping = false;
  std::vector<composite_error::failure> failures;
  std::function<void(bounded_pump&)> finish;

  static void pump(const std::shared_ptr<bounded_pump>& st) {
    if (st->pumping) return;
    st->pumping = true;
    while (st->in_flight < st->limit && st->next < st->items.size()) {
      size_t i = st->next++;
      ++st->in_flight;
      (void)futurize_invoke(st->fn, st->items[i]).then_wrapped([st, i](R&& f) {
        if (f.failed()) {
          st->failures.emplace_back(i, f.get_exception());
        } else {
          try {
            st->on_result(i, std::move(f));
          } catch (...) {  // a throwing reducer fails this item, never stalls the pump
            st->failures.emplace_back(i, std::current_exception());
          }
        }
        --st->in_flight;
        pump(st);
      });
    }
    st->pumping = false;
    if (st->in_flight == 0 && st->next == st->items.size() && st->finish) {
      auto fin = std::move(st->finish);
      st->finish = nullptr;
      std::sort(st->failures.begin(), st->failures.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      fin(*st);
    }
  }
};

template <typename Range>
auto to_vector(Range&& r) {
  std::vector<std::ranges::range_value_t<Range>> v;
  for (auto&& x : r) v.push_back(std::forward<decltype(x)>(x));
  return v;
}

inline std::exception_ptr bad_limit() {
  return std::make_exception_ptr(std::invalid_argument("fa::parallel: concurrency must be >= 1"));
}

}  // namespace detail

// Calls fn(item) for each item (at most `limit` in flight) and resolves when all finish; fails
// with a composite_error naming every item whose call failed.
template <std::ranges::input_range Range, typename F>
future<> parallel_for_each(Range&& range, F fn, size_t limit = kUnboundedConcurrency) {
  if (limit == 0) return make_exception_future<>(detail::bad_limit());
  using Item = std::ranges::range_value_t<Range>;
  auto on_result = [](size_t, auto&&) {};
  using pump_t = detail::bounded_pump<Item, F, decltype(on_result)>;
  auto st = std::make_shared<pump_t>(detail::to_vector(std::forward<Range>(range)), std::move(fn),
                                     on_result, limit);
  auto pr = std::make_shared<promise<>>();
  future<> out = pr->get_future();
  st->finish = [pr](pump_t& s) {
    if (s.failures.empty()) return pr->set_value();
    pr->set_exception(std::make_exception_ptr(composite_error(std::move(s.failures))));
  };
  pump_t::pump(st);
  return out;
}

// Calls fn(item) for each item (at most `limit` in flight) and resolves with the results in
// input order; fails with a composite_error naming every failed item.
template <std::ranges::input_range Range, typename F>
auto parallel_map(Range&& range, F fn, size_t limit = kUnboundedConcurrency) {
  using Item = std::ranges::range_value_t<Range>;
  using U = typename futurize_t<std::invoke_result_t<F&, Item&>>::value_type;
  using slots_t = std::vector<std::optional<U>>;
  if (limit == 0) return make_exception_future<std::vector<U>>(detail::bad_limit());
  auto slots = std::make_shared<slots_t>();
  auto on_result = [slots](size_t i, future<U>&& f) { (*slots)[i].emplace(f.get()); };
  using pump_t = detail::bounded_pump<Item, F, decltype(on_result)>;
  auto st = std::make_shared<pump_t>(detail::to_vector(std::forward<Range>(range)), std::move(fn),
                                     on_result, limit);
  slots->resize(st->items.size());
  auto pr = std::make_shared<promise<std::vector<U>>>();
  future<std::vector<U>> out = pr->get_future();
  st->finish = [pr, slots](pump_t& s) {
    if (!s.failures.empty()) {
      return pr->set_exception(std::make_exception_ptr(composite_error(std::move(s.failures))));
    }
    std::vector<U> values;
    values.reserve(slots->size());
    for (auto& v : *slots) values.push_back(std::move(*v));
    pr->set_value(std::move(values));
  };
  pump_t::pump(st);
  return out;
}

// Calls mapper(item) for each item (at most `limit` in flight) and folds each result into
// `initial` with reducer(acc, value) in completion order (so reducer should be commutative);
// fails with a composite_error naming every failed item.
template <std::ranges::input_range Range, typename Mapper, typename Acc, typename Reducer>
future<Acc> map_reduce(Range&& range, Mapper mapper, Acc initial, Reducer reducer,
                       size_t limit = kUnboundedConcurrency) {
  using Item = std::ranges::range_value_t<Range>;
  using U = typename futurize_t<std::invoke_result_t<Mapper&, Item&>>::value_type;
  if (limit == 0) return make_exception_future<Acc>(detail::bad_limit());
  auto acc = std::make_shared<Acc>(std::move(initial));
  auto on_result = [acc, reducer = std::move(reducer)](size_t, future<U>&& f) mutable {
    *acc = reducer(std::move(*acc), f.get());
  };
  using pump_t = detail::bounded_pump<Item, Mapper, decltype(on_result)>;
  auto st = std::make_shared<pump_t>(detail::to_vector(std::forward<Range>(range)),
                                     std::move(mapper), std::move(on_result), limit);
  auto pr = std::make_shared<promise<Acc>>();
  future<Acc> out = pr->get_future();
  st->finish = [pr, acc](pump_t& s) {
    if (!s.failures.empty()) {
      return pr->set_exception(std::make_exception_ptr(composite_error(std::move(s.failures))));
    }
    pr->set_value(std::move(*acc));
  };
  pump_t::pump(st);
  return out;
}

}  // namespace fa
