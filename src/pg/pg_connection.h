// Connection: one PostgreSQL session on the engine's EventLoop (non-blocking socket, the sans-I/O
// Protocol inside), with auto-pipelining and a per-connection prepared-statement cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "core/future.h"
#include "pg/pg_config.h"
#include "pg/pg_error.h"
#include "pg/pg_param.h"
#include "pg/pg_result.h"
#include "pg/protocol.h"

namespace fa::pg {

// Parameters encoded once, ready to be copied into any connection's Bind (the pool keeps
// queries that wait for a connection in this form, since Param only borrows its values).
struct EncodedParams {
  std::vector<int16_t> formats;  // empty: all text
  std::string values;            // (int32 length, bytes) per parameter, as in Bind
  int16_t count = 0;
  // Throws std::invalid_argument past 65535 parameters (Bind's int16 count, §55.7).
  static EncodedParams from(std::span<const Param> params);
};

// Every query runs as Parse (first use only) + Describe + Bind + Execute + Sync in the extended
// protocol (§55.2.3). Queries issued in the same loop iteration are written together by one
// send() when the iteration's deferred tasks run; replies are matched to callers in order.
// The connection is loop-local: use it from the loop's thread only.
class Connection final : public IoHandler, public std::enable_shared_from_this<Connection> {
 public:
  // Opens a connection: resolves once authenticated and ready (ReadyForQuery), fails with
  // ConnectionError (refused, timed out, protocol error) or ServerError (bad password,
  // unknown database...). Never blocks.
  static future<std::shared_ptr<Connection>> connect(EventLoop& loop, Config config);

  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs sql with $1..$n bound to params. Resolves with the rows (binary values); fails with
  // ServerError (the connection stays usable), ConnectionError (it is broken), or
  // std::invalid_argument (NUL in sql, too many parameters: nothing was sent).
  future<Result> query(std::string_view sql, std::span<const Param> params);
  future<Result> query(std::string_view sql, std::initializer_list<Param> params = {}) {
    return query(sql, std::span<const Param>(params.begin(), params.size()));
  }
  future<Result> query(std::string_view sql, const EncodedParams& params);

  // Closes the session (Terminate, then the socket); queries still pending fail with
  // ConnectionError. Idempotent.
  void close();

  bool ready() const noexcept { return state_ == State::kReady; }
  bool broken() const noexcept { return state_ == State::kBroken || state_ == State::kClosed; }
  size_t in_flight() const noexcept { return ops_.size(); }
  int32_t backend_pid() const noexcept { return proto_.backend_pid(); }
  size_t cached_statements() const noexcept { return stmts_.size(); }
  // send() calls made so far (tests check that a turn's queries share one write).
  uint64_t sends() const noexcept { return sends_; }
  EventLoop& loop() const noexcept { return loop_; }
  // Called once, on the loop, when the connection breaks or is closed (the pool drops it then).
  void set_on_broken(std::function<void(Connection&)> fn) { on_broken_ = std::move(fn); }

  void on_io(uint32_t events) override;

 private:
  enum class State { kConnecting, kStartup, kReady, kBroken, kClosed };
  struct Stmt {
    std::string name;
    std::string sql;                         // its key in stmts_
    std::shared_ptr<const Columns> columns;  // from the Describe answer
    std::exception_ptr parse_error;          // the Parse failed: queries naming it get this
    bool parsed = false;
    uint64_t last_use = 0;
  };
  struct Op {
    promise<Result> pr;
    Result result;
    std::shared_ptr<Stmt> stmt;  // null: a Close + Sync with no caller
    bool parses = false;         // carries the statement's Parse + Describe
    std::exception_ptr error;
  };

  Connection(EventLoop& loop, Config config);
  void start_connect();
  // Writes the messages of one query (Parse/Describe on a cache miss) and queues its Op.
  template <typename WriteParams>
  future<Result> enqueue(std::string_view sql, std::span<const int16_t> formats, int16_t count,
                         const WriteParams& write_params);
  std::shared_ptr<Stmt> statement_for(std::string_view sql, bool& parses);
  void schedule_flush();
  void flush();
  void read_ready();
  void handle_events();
  void on_event(const Event& e);
  void finish_front();
  void startup_event(const Event& e);
  // Marks the connection dead, fails every pending query with `reason`, closes the socket.
  // `connect_error` (a ServerError from startup) replaces it for the connect() future.
  void fail(const std::string& reason, std::exception_ptr connect_error = nullptr);
  void begin_startup();
  void evict_one();
  void forget_if_stale(const std::shared_ptr<Stmt>& stmt, std::string_view sqlstate);
  void update_interest();

  EventLoop& loop_;
  Config config_;
  Protocol proto_;
  int fd_ = -1;
  State state_ = State::kConnecting;
  promise<std::shared_ptr<Connection>> connect_pr_;
  bool connect_done_ = false;
  TimerId connect_timer_ = 0;  // its callback owns the connection until connect() resolves
  size_t wpos_ = 0;            // bytes of proto_.out() already sent
  bool flush_scheduled_ = false;
  bool want_write_ = false;
  std::deque<Op> ops_;
  struct SqlHash {  // lets find() take a string_view (no key copy per query)
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::shared_ptr<Stmt>, SqlHash, std::equal_to<>> stmts_;
  uint64_t stmt_counter_ = 0;
  uint64_t use_clock_ = 0;
  uint64_t sends_ = 0;
  std::string fatal_;  // a FATAL error's text, reported when the EOF that follows it arrives
  std::function<void(Connection&)> on_broken_;
};

}  // namespace fa::pg
