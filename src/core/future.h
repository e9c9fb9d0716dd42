// future<T>/promise<T>: loop-local (single-threaded) Seastar-style futures.
//
// A ready future holds its value inline; `then` on it runs the continuation at once and
// allocates nothing. A future that is not ready is linked to its promise by pointers (both
// are movable; moves fix the links), and `then` allocates exactly one continuation object.
// Continuations run when the promise is fulfilled (see future_task.h for the order).
#pragma once

#include <cassert>
#include <exception>
#include <functional>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/future_task.h"

namespace fa {

template <typename T = void>
class future;
template <typename T = void>
class promise;

// Delivered to a future whose promise was destroyed before being fulfilled.
class broken_promise : public std::logic_error {
 public:
  broken_promise() : std::logic_error("fa::promise destroyed before it was fulfilled") {}
};

namespace detail {

struct void_value {};  // the stored value of a future<void>
template <typename T>
using value_of = std::conditional_t<std::is_void_v<T>, void_value, T>;

// Pending, value, or exception. Moving from a state leaves it pending ("consumed").
template <typename T>
class future_state {
 public:
  using value_type = value_of<T>;
  future_state() noexcept = default;
  future_state(future_state&& o) noexcept : v_(std::move(o.v_)) { o.v_.template emplace<0>(); }
  future_state& operator=(future_state&& o) noexcept {
    v_ = std::move(o.v_);
    o.v_.template emplace<0>();
    return *this;
  }

  bool available() const noexcept { return v_.index() == 1 || v_.index() == 2; }
  bool failed() const noexcept { return v_.index() == 2; }
  template <typename... A>
  void set_value(A&&... a) {
    v_.template emplace<1>(std::forward<A>(a)...);
  }
  void set_exception(std::exception_ptr e) noexcept { v_.template emplace<2>(std::move(e)); }
  value_type take_value() {
    value_type v = std::move(std::get<1>(v_));
    v_.template emplace<0>();
    return v;
  }
  std::exception_ptr take_exception() noexcept {
    std::exception_ptr e = std::move(std::get<2>(v_));
    v_.template emplace<0>();
    return e;
  }
  const std::exception_ptr& peek_exception() const noexcept { return std::get<2>(v_); }

 private:
  std::variant<std::monostate, value_type, std::exception_ptr> v_;
};

template <typename T>
class continuation_base : public task {
 public:
  future_state<T> state_;
};

// The result type of calling `F` with the value of a future<T>.
template <typename T, typename F>
struct then_result {
  using type = std::invoke_result_t<F, T&&>;
};
template <typename F>
struct then_result<void, F> {
  using type = std::invoke_result_t<F>;
};

template <typename T>
struct is_future : std::false_type {};
template <typename T>
struct is_future<future<T>> : std::true_type {};

}  // namespace detail

template <typename T>
future<T> make_exception_future(std::exception_ptr e) noexcept;

// Maps a continuation's return type R to the future it produces: future<U> stays (flattening),
// anything else becomes future<R>.
template <typename R>
struct futurize {
  using type = future<R>;
  using value_type = R;
  // Calls f(args...) and wraps its result, or the exception it threw, in a ready future.
  template <typename F, typename... A>
  static type invoke(F&& f, A&&... a) noexcept;
};
template <typename U>
struct futurize<future<U>> {
  using type = future<U>;
  using value_type = U;
  template <typename F, typename... A>
  static type invoke(F&& f, A&&... a) noexcept {
    try {
      return std::invoke(std::forward<F>(f), std::forward<A>(a)...);
    } catch (...) {
      return make_exception_future<U>(std::current_exception());
    }
  }
};
template <typename R>
using futurize_t = typename futurize<R>::type;

template <typename T>
class promise {
 public:
  using value_type = detail::value_of<T>;

  promise() noexcept : state_(&local_) {}
  promise(promise&& o) noexcept : future_(o.future_), state_(o.state_), task_(o.task_) {
    if (o.local_.available()) local_ = std::move(o.local_);  // a result set before get_future()
    if (state_ == &o.local_) state_ = &local_;
    if (future_) future_->promise_ = this;
    o.future_ = nullptr;
    o.state_ = nullptr;
    o.task_ = nullptr;
  }
  promise& operator=(promise&& o) noexcept {
    if (this != &o) {
      this->~promise();
      new (this) promise(std::move(o));
    }
    return *this;
  }
  promise(const promise&) = delete;
  promise& operator=(const promise&) = delete;
  // An unfulfilled promise with a listener delivers broken_promise: an error, never a hang.
  ~promise() {
    if (state_ && state_ != &local_) set_exception(std::make_exception_ptr(broken_promise()));
  }

  // Returns the future fulfilled by this promise; call at most once.
  future<T> get_future() noexcept {
    assert(state_ == &local_ && "promise::get_future: called twice or on a moved-from promise");
    return future<T>(this);
  }

  // Fulfils the future with a value; a no-op if the future was dropped.
  template <typename... A>
  void set_value(A&&... a) {
    assert(!(state_ == &local_ && local_.available()) && "promise::set_value: already fulfilled");
    if (!state_) return;
    state_->set_value(std::forward<A>(a)...);
    deliver();
  }
  // Fulfils the future with an exception; a no-op if the future was dropped.
  void set_exception(std::exception_ptr e) noexcept {
    assert(!(state_ == &local_ && local_.available()) &&
           "promise::set_exception: already fulfilled");
    if (!state_) return;
    state_->set_exception(std::move(e));
    deliver();
  }
  template <typename E>
  void set_exception(E&& e) {
    set_exception(std::make_exception_ptr(std::forward<E>(e)));
  }

 private:
  template <typename U>
  friend class future;

  void set_state(detail::future_state<T>&& s) noexcept {
    if (!state_) return;
    *state_ = std::move(s);
    deliver();
  }
  // Hands the freshly stored result to whoever listens, then unlinks this promise.
  void deliver() noexcept {
    if (state_ == &local_) return;  // get_future() not called yet: it will pick up local_
    // Unlink first: the continuation may destroy the object that owns this promise.
    detail::task* t = std::exchange(task_, nullptr);
    if (future_) future_->promise_ = nullptr;
    future_ = nullptr;
    state_ = nullptr;
    if (t) detail::schedule(t);
  }

  detail::future_state<T> local_;                 // result set before get_future()
  future<T>* future_ = nullptr;                   // the linked future, if no continuation yet
  detail::future_state<T>* state_;                // where the result goes (nullptr: nobody listens)
  detail::continuation_base<T>* task_ = nullptr;  // the continuation to schedule, if any
};

template <typename T>
class [[nodiscard]] future {
 public:
  using value_type = T;

  future(future&& o) noexcept : state_(std::move(o.state_)), promise_(o.promise_) {
    o.promise_ = nullptr;
    if (promise_) relink();
  }
  future& operator=(future&& o) noexcept {
    if (this != &o) {
      this->~future();
      new (this) future(std::move(o));
    }
    return *this;
  }
  future(const future&) = delete;
  future& operator=(const future&) = delete;
  ~future() { detach_promise(); }

  bool available() const noexcept { return state_.available(); }
  bool failed() const noexcept { return state_.failed(); }
  // False once consumed (by get, then, a move) — using it again is a programming error.
  bool valid() const noexcept { return available() || promise_ != nullptr; }

  // Returns the value (or rethrows the exception) of a ready future and consumes it.
  // Throws std::logic_error if the future is not ready: loop-local futures cannot block.
  detail::value_of<T> get_value() {
    if (!available()) throw std::logic_error("future::get: future is not ready");
    if (failed()) std::rethrow_exception(state_.take_exception());
    return state_.take_value();
  }
  T get() {
    if constexpr (std::is_void_v<T>) {
      get_value();
    } else {
      return get_value();
    }
  }
  // Returns and consumes the exception of a failed ready future.
  std::exception_ptr get_exception() noexcept { return state_.take_exception(); }

  // Runs f(value) when the value is ready (at once if it is), skipping f on failure; returns
  // a future of f's result (flattened when f returns a future). Exceptions thrown by f fail it.
  template <typename F>
  futurize_t<typename detail::then_result<T, F>::type> then(F&& f) {
    using R = typename detail::then_result<T, F>::type;
    using U = typename futurize<R>::value_type;
    if (available()) {
      if (failed()) return make_exception_future<U>(state_.take_exception());
      return call_with_value<R>(f, state_);
    }
    if (!promise_) return consumed_error<U>();
    auto* c = new then_continuation<std::decay_t<F>, R>(std::forward<F>(f));
    future<U> result = c->pr_.get_future();
    attach(c);
    return result;
  }

  // Runs f(future<T>) with this future once it is ready, value or exception; returns a future
  // of f's result (flattened).
  template <typename F>
  futurize_t<std::invoke_result_t<F, future<T>&&>> then_wrapped(F&& f) {
    using R = std::invoke_result_t<F, future<T>&&>;
    using U = typename futurize<R>::value_type;
    if (available()) return futurize<R>::invoke(f, std::move(*this));
    if (!promise_) return consumed_error<U>();
    auto* c = new wrapped_continuation<std::decay_t<F>, R>(std::forward<F>(f));
    future<U> result = c->pr_.get_future();
    attach(c);
    return result;
  }

  // On failure, returns f(exception_ptr) (a T or a future<T>); on success passes the value on.
  template <typename F>
  future<T> handle_exception(F&& f) {
    return then_wrapped([f = std::forward<F>(f)](future<T>&& fut) mutable -> future<T> {
      if (!fut.failed()) return std::move(fut);
      using R = std::invoke_result_t<F, std::exception_ptr>;
      return futurize<R>::invoke(f, fut.get_exception());
    });
  }

  // Runs f() whatever the outcome and passes the original result on (f's own failure wins).
  template <typename F>
  future<T> finally(F&& f) {
    return then_wrapped([f = std::forward<F>(f)](future<T>&& fut) mutable -> future<T> {
      using R = std::invoke_result_t<F>;
      futurize_t<R> done = futurize<R>::invoke(f);
      return std::move(done).then_wrapped([fut = std::move(fut)](auto&& d) mutable -> future<T> {
        if (d.failed()) return make_exception_future<T>(d.get_exception());
        return std::move(fut);
      });
    });
  }

  // Delivers this future's result to `pr` when ready. Never allocates: a pending future hands
  // its promise's link over to `pr`'s listener.
  void forward_to(promise<T>&& pr) noexcept {
    if (available()) {
      pr.set_state(std::move(state_));
      return;
    }
    if (!promise_) {
      pr.set_exception(std::make_exception_ptr(std::logic_error("future::forward_to: consumed")));
      return;
    }
    if (pr.state_ == &pr.local_) {  // pr has no listener yet: keep the two-step path
      (void)then_wrapped(
          [pr = std::move(pr)](future<T>&& f) mutable { f.forward_to(std::move(pr)); });
      return;
    }
    promise<T>* src = std::exchange(promise_, nullptr);
    src->state_ = pr.state_;
    src->task_ = pr.task_;
    src->future_ = pr.future_;
    if (src->future_) src->future_->promise_ = src;
    pr.state_ = nullptr;
    pr.task_ = nullptr;
    pr.future_ = nullptr;
  }

 private:
  template <typename U>
  friend class future;
  template <typename U>
  friend class promise;
  template <typename U, typename... A>
  friend future<U> make_ready_future(A&&... a);
  template <typename U>
  friend future<U> make_exception_future(std::exception_ptr e) noexcept;

  future() noexcept = default;
  explicit future(detail::future_state<T>&& s) noexcept : state_(std::move(s)) {}
  explicit future(promise<T>* p) noexcept : state_(std::move(p->local_)) {
    if (state_.available()) {
      p->state_ = nullptr;
    } else {
      promise_ = p;
      relink();
    }
  }

  void relink() noexcept {
    promise_->future_ = this;
    promise_->state_ = &state_;
  }
  void detach_promise() noexcept {
    if (promise_) {
      promise_->future_ = nullptr;
      promise_->state_ = nullptr;  // the result will be discarded
      promise_ = nullptr;
    }
  }
  void attach(detail::continuation_base<T>* c) noexcept {
    promise_->task_ = c;
    promise_->state_ = &c->state_;
    promise_->future_ = nullptr;
    promise_ = nullptr;
  }
  template <typename U>
  static future<U> consumed_error() noexcept {
    return make_exception_future<U>(
        std::make_exception_ptr(std::logic_error("future::then: future already consumed")));
  }
  template <typename R, typename F>
  static futurize_t<R> call_with_value(F& f, detail::future_state<T>& s) noexcept {
    if constexpr (std::is_void_v<T>) {
      (void)s.take_value();
      return futurize<R>::invoke(f);
    } else {
      return futurize<R>::invoke(f, s.take_value());
    }
  }

  template <typename F, typename R>
  class then_continuation final : public detail::continuation_base<T> {
   public:
    template <typename G>
    explicit then_continuation(G&& g) : f_(std::forward<G>(g)) {}
    void run_and_dispose() noexcept override {
      if (this->state_.failed()) {
        pr_.set_exception(this->state_.take_exception());
      } else {
        call_with_value<R>(f_, this->state_).forward_to(std::move(pr_));
      }
      delete this;
    }
    promise<typename futurize<R>::value_type> pr_;
    F f_;
  };

  template <typename F, typename R>
  class wrapped_continuation final : public detail::continuation_base<T> {
   public:
    template <typename G>
    explicit wrapped_continuation(G&& g) : f_(std::forward<G>(g)) {}
    void run_and_dispose() noexcept override {
      futurize<R>::invoke(f_, future<T>(std::move(this->state_))).forward_to(std::move(pr_));
      delete this;
    }
    promise<typename futurize<R>::value_type> pr_;
    F f_;
  };

  detail::future_state<T> state_;
  promise<T>* promise_ = nullptr;
};

// Returns a ready future holding T constructed from `a` (no allocation).
template <typename T = void, typename... A>
future<T> make_ready_future(A&&... a) {
  future<T> f;
  f.state_.set_value(std::forward<A>(a)...);
  return f;
}

// Returns a ready, failed future.
template <typename T = void>
future<T> make_exception_future(std::exception_ptr e) noexcept {
  future<T> f;
  f.state_.set_exception(std::move(e));
  return f;
}
template <typename T = void, typename E>
requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>) future<T> make_exception_future(
    E&& e)
noexcept {
  return make_exception_future<T>(std::make_exception_ptr(std::forward<E>(e)));
}

template <typename R>
template <typename F, typename... A>
typename futurize<R>::type futurize<R>::invoke(F&& f, A&&... a) noexcept {
  try {
    if constexpr (std::is_void_v<R>) {
      std::invoke(std::forward<F>(f), std::forward<A>(a)...);
      return make_ready_future<void>();
    } else {
      return make_ready_future<R>(std::invoke(std::forward<F>(f), std::forward<A>(a)...));
    }
  } catch (...) {
    return make_exception_future<R>(std::current_exception());
  }
}

// Calls f(a...) and returns its result as a future; a thrown exception becomes a failed future.
template <typename F, typename... A>
auto futurize_invoke(F&& f, A&&... a) noexcept {
  using R = std::invoke_result_t<F, A&&...>;
  return futurize<R>::invoke(std::forward<F>(f), std::forward<A>(a)...);
}

}  // namespace fa
