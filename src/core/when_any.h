// when_any: the first of several futures to become ready.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/future.h"
#include "core/when_all.h"

namespace fa {

template <typename T>
struct when_any_result {
  size_t index;      // which input finished first
  future<T> result;  // its outcome (value or exception), ready
};

// Resolves with the first input to become ready (the lowest index if several already are).
// The others keep running; their results are discarded when they arrive, and the shared
// state is freed with the last of them, so nothing leaks. Fails with std::invalid_argument
// if `fs` is empty.
template <typename T>
future<when_any_result<T>> when_any(std::vector<future<T>> fs) {
  if (fs.empty()) {
    return make_exception_future<when_any_result<T>>(
        std::invalid_argument("fa::when_any: no futures"));
  }
  for (size_t i = 0; i < fs.size(); ++i) {
    detail::fail_if_consumed(fs[i], "fa::when_any");
    if (fs[i].available())
      return make_ready_future<when_any_result<T>>(when_any_result<T>{i, std::move(fs[i])});
  }
  struct state {
    promise<when_any_result<T>> pr;
    bool done = false;
  };
  auto st = std::make_shared<state>();
  future<when_any_result<T>> out = st->pr.get_future();
  for (size_t i = 0; i < fs.size(); ++i) {
    (void)fs[i].then_wrapped([st, i](future<T>&& f) {
      if (st->done) return;
      st->done = true;
      st->pr.set_value(when_any_result<T>{i, std::move(f)});
    });
  }
  return out;
}

}  // namespace fa
