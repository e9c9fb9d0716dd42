// Pool: connection set, least-busy placement, bursts, and queries waiting for a first connection.
#include "pg/pg_pool.h"

#include <algorithm>
#include <stdexcept>

namespace fa::pg {

struct Pool::State : std::enable_shared_from_this<Pool::State> {
  struct Waiter {
    std::string sql;
    EncodedParams params;
    promise<Result> pr;
  };

  EventLoop& loop;
  Config config;
  PoolOptions options;
  std::vector<std::shared_ptr<Connection>> live;
  size_t connecting = 0;
  std::deque<Waiter> waiting;
  std::vector<promise<>> ready_waiters;
  PoolStats counters;  // sends: those of connections no longer live
  bool closed = false;

  State(EventLoop& l, Config c, PoolOptions o) : loop(l), config(std::move(c)), options(o) {}

  void open_one() {
    ++connecting;
    (void)Connection::connect(loop, config)
        .then_wrapped([w = weak_from_this()](future<std::shared_ptr<Connection>> f) {
          auto self = w.lock();
          if (!self) {
            if (!f.failed())
              f.get()->close();
            else
              (void)f.get_exception();
            return;
          }
          self->on_connected(std::move(f));
        });
  }

  void on_connected(future<std::shared_ptr<Connection>> f) {
    --connecting;
    if (f.failed()) {
      std::exception_ptr err = f.get_exception();
      ++counters.connect_failures;
      // Fail the waiters only when nothing else could still serve them.
      if (live.empty() && connecting == 0) {
        auto waiters = std::move(waiting);
        waiting.clear();
        for (Waiter& wt : waiters) wt.pr.set_exception(err);
        auto rw = std::move(ready_waiters);
        ready_waiters.clear();
        for (auto& p : rw) p.set_exception(err);
      }
      return;
    }
    std::shared_ptr<Connection> c = f.get();
    if (closed) {
      c->close();
      return;
    }
    ++counters.opened;
    c->set_on_broken([w = weak_from_this()](Connection& dead) {
      if (auto self = w.lock()) self->drop(dead);
    });
    live.push_back(c);
    if (live.size() >= std::min(options.min_size, options.max_size)) {
      auto rw = std::move(ready_waiters);
      ready_waiters.clear();
      for (auto& p : rw) p.set_value();
    }
    // Hand the queries that waited for a connection to the live ones, least busy first.
    while (!waiting.empty() && !closed) {
      Waiter wt = std::move(waiting.front());
      waiting.pop_front();
      Connection* target = pick();
      if (!target) {
        waiting.push_front(std::move(wt));
        break;
      }
      target->query(wt.sql, wt.params).forward_to(std::move(wt.pr));
    }
    top_up();
  }

  void drop(Connection& dead) {
    for (auto it = live.begin(); it != live.end(); ++it) {
      if (it->get() == &dead) {
        counters.sends += dead.sends();
        live.erase(it);
        ++counters.dropped;
        break;
      }
    }
    top_up();
  }

  // Opens connections up to min_size, and one more while queries wait and the pool has room.
  void top_up() {
    if (closed) return;
    size_t cap = std::max<size_t>(options.max_size, 1);
    size_t want = std::min(options.min_size, cap);
    size_t have = live.size() + connecting;
    // Counted once: a connect can fail synchronously, and must not be retried in a loop here.
    bool opened = false;
    for (size_t i = have; i < want; ++i, opened = true) open_one();
    if (!opened && !waiting.empty() && connecting == 0 && live.size() < cap) open_one();
  }

  // The least busy live connection; opens one more (up to max_size) when even it has
  // pipeline_depth queries in flight, and keeps pipelining on it meanwhile.
  Connection* pick() {
    Connection* best = nullptr;
    for (auto& c : live) {
      if (!c->ready()) continue;
      if (!best || c->in_flight() < best->in_flight()) best = c.get();
      if (best->in_flight() == 0) break;
    }
    if (best && best->in_flight() >= options.pipeline_depth &&
        live.size() + connecting < options.max_size && connecting == 0)
      open_one();
    return best;
  }

  // No live connection yet: the query waits for the first one (its params encoded now, since
  // Param only borrows).
  future<Result> wait_for_connection(std::string_view sql, std::span<const Param> params) {
    EncodedParams encoded;
    try {
      encoded = EncodedParams::from(params);
    } catch (...) {
      return make_exception_future<Result>(std::current_exception());
    }
    Waiter& wt = waiting.emplace_back();
    wt.sql.assign(sql);
    wt.params = std::move(encoded);
    auto f = wt.pr.get_future();
    top_up();
    return f;
  }
};

Pool::Pool(EventLoop& loop, Config config, PoolOptions options)
    : s_(std::make_shared<State>(loop, std::move(config), options)) {
  if (options.max_size == 0) throw std::invalid_argument("pg::Pool: max_size must be at least 1");
}

Pool::~Pool() {
  close();
}

future<Result> Pool::query(std::string_view sql, std::span<const Param> params) {
  State& s = *s_;
  if (s.closed) return make_exception_future<Result>(ConnectionError("pg: the pool is closed"));
  if (Connection* c = s.pick()) return c->query(sql, params);
  return s.wait_for_connection(sql, params);
}

Pool::Burst Pool::burst() {
  return Burst(s_);
}

future<Result> Pool::Burst::query(std::string_view sql, std::span<const Param> params) {
  State& s = *s_;
  if (s.closed) return make_exception_future<Result>(ConnectionError("pg: the pool is closed"));
  // A connection broken since the last query is off the pool's list: never used again.
  std::shared_ptr<Connection> c = conn_.lock();
  if (!c || !c->ready() || on_conn_ >= s.options.pipeline_depth) {
    Connection* next = s.pick();
    if (!next) {
      conn_.reset();
      return s.wait_for_connection(sql, params);
    }
    c = next->shared_from_this();
    conn_ = c;
    on_conn_ = 0;
  }
  ++on_conn_;
  return c->query(sql, params);
}

future<> Pool::ready() {
  State& s = *s_;
  if (s.closed) return make_exception_future<>(ConnectionError("pg: the pool is closed"));
  if (s.live.size() >= std::min(s.options.min_size, s.options.max_size) && !s.live.empty())
    return make_ready_future<>();
  auto f = s.ready_waiters.emplace_back().get_future();
  s.top_up();
  if (s.connecting == 0 && s.live.empty()) s.open_one();
  return f;
}

PoolStats Pool::stats() const {
  PoolStats st = s_->counters;
  st.live = s_->live.size();
  st.connecting = s_->connecting;
  st.waiting = s_->waiting.size();
  for (const auto& c : s_->live) st.sends += c->sends();
  return st;
}

void Pool::close() {
  State& s = *s_;
  if (s.closed) return;
  s.closed = true;
  auto err = std::make_exception_ptr(ConnectionError("pg: the pool is closed"));
  auto waiters = std::move(s.waiting);
  s.waiting.clear();
  for (auto& wt : waiters) wt.pr.set_exception(err);
  auto rw = std::move(s.ready_waiters);
  s.ready_waiters.clear();
  for (auto& p : rw) p.set_exception(err);
  auto live = std::move(s.live);
  s.live.clear();
  for (auto& c : live) {
    c->set_on_broken(nullptr);
    c->close();
    s.counters.sends += c->sends();
  }
}

}  // namespace fa::pg
