// with_timeout, sleep: futures driven by a timer source (fa::EventLoop, or a fake clock in tests).
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>

#include "core/event_loop.h"
#include "core/future.h"
#include "core/future_errors.h"

namespace fa {

// Anything that runs a callback after a delay and can cancel it: fa::EventLoop satisfies it.
template <typename L>
concept TimerSource = requires(L& l, Duration d, std::function<void()> fn, TimerId id) {
  { l.call_later(d, std::move(fn)) } -> std::convertible_to<TimerId>;
  l.cancel(id);
};

// Resolves `delay` from now on `timers`. One timer callback, one shared promise.
template <TimerSource L>
future<> sleep(L& timers, Duration delay) {
  auto pr = std::make_shared<promise<>>();
  future<> f = pr->get_future();
  timers.call_later(delay, [pr] { pr->set_value(); });
  return f;
}

// Resolves like `f`, or fails with timed_out_error if `timeout` passes first; the timer is
// cancelled when `f` wins. `f`'s operation is not cancelled: its late result is discarded.
template <TimerSource L, typename T>
future<T> with_timeout(L& timers, Duration timeout, future<T> f) {
  if (f.available()) return f;
  if (!f.valid()) {
    return make_exception_future<T>(
        std::logic_error("fa::with_timeout: input future already consumed"));
  }
  struct state {
    promise<T> pr;
    TimerId timer = 0;
    bool done = false;
  };
  auto st = std::make_shared<state>();
  future<T> out = st->pr.get_future();
  // The timer holds a weak reference: a cancelled timer does not keep the state alive.
  st->timer = timers.call_later(timeout, [w = std::weak_ptr<state>(st)] {
    auto s = w.lock();
    if (!s || s->done) return;
    s->done = true;
    s->pr.set_exception(std::make_exception_ptr(timed_out_error()));
  });
  (void)f.then_wrapped([st, &timers](future<T>&& r) {
    if (st->done) return;  // timed out already
    st->done = true;
    timers.cancel(st->timer);
    r.forward_to(std::move(st->pr));
  });
  return out;
}

}  // namespace fa
