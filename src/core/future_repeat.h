// repeat: an asynchronous loop that stays flat on the stack when iterations complete at once.
#pragma once

#include <utility>

#include "core/future.h"

namespace fa {

enum class stop_iteration { no, yes };

// Calls fn() (returning a stop_iteration or a future of one) until it yields `yes`; resolves
// then, or fails with the first exception. Iterations that complete at once run in a plain
// loop (no allocation, no recursion); one that must wait costs one continuation.
template <typename F>
future<> repeat(F fn) {
  for (;;) {
    future<stop_iteration> f = futurize_invoke(fn);
    if (!f.available()) {
      return std::move(f).then([fn = std::move(fn)](stop_iteration s) mutable -> future<> {
        if (s == stop_iteration::yes) return make_ready_future<>();
        return repeat(std::move(fn));
      });
    }
    if (f.failed()) return make_exception_future<>(f.get_exception());
    if (f.get() == stop_iteration::yes) return make_ready_future<>();
  }
}

}  // namespace fa
