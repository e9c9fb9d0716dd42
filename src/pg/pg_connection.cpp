// Connection: socket, startup and the reply FIFO; the wire format is Protocol's (pg/protocol.h).
#include "pg/pg_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "pg/backend.h"
#include "pg/wire.h"

namespace fa::pg {

namespace {
constexpr size_t kReadChunk = 64 * 1024;  // bytes per recv(); a full chunk means read again
constexpr size_t kMaxParams = 65535;      // Bind's parameter count is an Int16 read unsigned
constexpr int16_t kAllBinary[1] = {1};    // one result format code applies to every column

const std::shared_ptr<const Columns>& no_columns() {
  static const auto* c = new std::shared_ptr<const Columns>(std::make_shared<Columns>());
  return *c;
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

future<Result> invalid(const char* msg) {
  return make_exception_future<Result>(std::invalid_argument(msg));
}
}  // namespace

EncodedParams EncodedParams::from(std::span<const Param> params) {
  if (params.size() > kMaxParams) throw std::invalid_argument("pg: more than 65535 parameters");
  EncodedParams e;
  e.count = static_cast<int16_t>(params.size());
  bool any_binary = false;
  for (const Param& p : params) any_binary |= p.format() != 0;
  if (any_binary)
    for (const Param& p : params) e.formats.push_back(p.format());
  for (const Param& p : params) {
    if (p.is_null()) {
      append_be<int32_t>(e.values, -1);
      continue;
    }
    size_t pos = e.values.size();
    append_be<int32_t>(e.values, 0);
    p.encode(e.values);
    put_be<int32_t>(e.values, pos, static_cast<int32_t>(e.values.size() - pos - 4));
  }
  return e;
}

Connection::Connection(EventLoop& loop, Config config)
    : loop_(loop),
      config_(std::move(config)),
      proto_(ConnectParams{config_.user, config_.password, config_.database, config_.options}) {}

Connection::~Connection() {
  if (connect_timer_) loop_.cancel(connect_timer_);
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
  }
  auto err = std::make_exception_ptr(ConnectionError("pg: connection destroyed"));
  if (!connect_done_) connect_pr_.set_exception(err);
  for (Op& op : ops_)
    if (op.stmt) op.pr.set_exception(err);
}

future<std::shared_ptr<Connection>> Connection::connect(EventLoop& loop, Config config) {
  std::shared_ptr<Connection> c(new Connection(loop, std::move(config)));
  auto f = c->connect_pr_.get_future();
  c->start_connect();
  return f;
}

void Connection::start_connect() {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const std::string& host = config_.host;
  if (!host.empty() && host[0] == '/') {
    // A Unix socket directory: the server listens on <dir>/.s.PGSQL.<port> (§34.1.1).
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    std::string path = host + "/.s.PGSQL." + std::to_string(config_.port);
    if (path.size() >= sizeof un->sun_path) return fail("pg: Unix socket path too long: " + path);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.c_str(), path.size() + 1);
    len = sizeof(sockaddr_un);
  } else {
    std::string ip = host == "localhost" || host.empty() ? "127.0.0.1" : host;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(config_.port);
      len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(config_.port);
      len = sizeof(sockaddr_in6);
    } else {
      return fail("pg: host '" + host +
                  "' must be a numeric address, localhost or a Unix socket directory (the C++ "
                  "client resolves no names: DNS would block the loop)");
    }
  }
  fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return fail(errno_text("pg: socket"));
  if (ss.ss_family != AF_UNIX) {
    int one = 1;  // small pipelined writes must not wait for Nagle's timer
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  // The timer owns the connection while it connects (nobody else does yet): cancelled once
  // connect() resolves, or destroyed with the loop, so an abandoned connect is freed either way.
  connect_timer_ = loop_.call_later(config_.connect_timeout, [self = shared_from_this()] {
    self->connect_timer_ = 0;
    self->fail("pg: connect timed out after " +
               std::to_string(self->config_.connect_timeout.count()) + " ms");
  });
  int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len);
  if (rc != 0 && errno != EINPROGRESS) return fail(errno_text(("pg: connect to " + host).c_str()));
  if (!loop_.add(fd_, EPOLLOUT, this)) return fail(errno_text("pg: epoll_ctl"));
  if (rc == 0) begin_startup();
}

void Connection::begin_startup() {
  state_ = State::kStartup;
  proto_.start();
  loop_.modify(fd_, EPOLLIN | EPOLLRDHUP, this);
  flush();
}

void Connection::on_io(uint32_t events) {
  auto self = shared_from_this();  // a continuation may drop the last owner
  if (state_ == State::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      errno = err;
      return fail(errno_text(
          ("pg: connect to " + config_.host + ":" + std::to_string(config_.port)).c_str()));
    }
    return begin_startup();
  }
  if (broken()) return;
  if (events & EPOLLOUT) flush();
  if (!broken() && (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))) read_ready();
}

void Connection::read_ready() {
  static thread_local std::array<char, kReadChunk> buf;
  for (;;) {
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n > 0) {
      proto_.feed(std::string_view(buf.data(), static_cast<size_t>(n)));
      handle_events();
      if (broken() || static_cast<size_t>(n) < buf.size()) return;
      continue;
    }
    if (n == 0) return fail(fatal_.empty() ? "pg: server closed the connection" : "pg: " + fatal_);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    return fail(errno_text("pg: recv"));
  }
}

void Connection::handle_events() {
  for (;;) {
    Event e = proto_.next();
    if (e.kind == EventKind::kNeedMore) break;
    if (e.kind == EventKind::kProtocolError) return fail("pg: protocol error: " + proto_.error());
    if (state_ == State::kStartup) {
      startup_event(e);
    } else {
      on_event(e);
    }
    if (broken()) return;
  }
  // Authentication answers (password, SASL) are written by Protocol as it reads the requests.
  if (state_ == State::kStartup && wpos_ < proto_.out().size()) flush();
}

void Connection::startup_event(const Event& e) {
  switch (e.kind) {
    case EventKind::kError: {
      ServerError err = ServerError::from_body(e.body);
      return fail(std::string("pg: ") + err.what(), std::make_exception_ptr(err));
    }
    case EventKind::kReady:
      state_ = State::kReady;
      if (connect_timer_) loop_.cancel(std::exchange(connect_timer_, 0));
      connect_done_ = true;
      connect_pr_.set_value(shared_from_this());
      return;
    default:
      return;  // ParameterStatus, BackendKeyData (kept by Protocol), notices
  }
}

void Connection::on_event(const Event& e) {
  if (ops_.empty()) {
    // Nothing waits: ParameterStatus, notices, notifications, or the FATAL a terminated
    // backend sends before closing (its text is reported with the EOF).
    if (e.kind == EventKind::kError) {
      ServerError err = ServerError::from_body(e.body);
      if (err.fatal()) fatal_ = err.what();
    }
    return;
  }
  Op& op = ops_.front();
  switch (e.kind) {
    case EventKind::kParseComplete:
      if (op.stmt) op.stmt->parsed = true;
      return;
    case EventKind::kRowDescription: {
      std::vector<FieldDesc> fields;
      if (!parse_row_description(e.body, fields)) return fail("pg: malformed RowDescription");
      auto cols = std::make_shared<Columns>();
      cols->reserve(fields.size());
      for (const FieldDesc& f : fields) cols->push_back(Column{std::string(f.name), f.type_oid});
      if (op.stmt) op.stmt->columns = cols;
      op.result.set_columns(std::move(cols));
      return;
    }
    case EventKind::kNoData:
      if (op.stmt) op.stmt->columns = no_columns();
      op.result.set_columns(no_columns());
      return;
    case EventKind::kDataRow:
      if (!op.result.has_columns()) op.result.set_columns(op.stmt ? op.stmt->columns : nullptr);
      if (!op.result.add_row(e.body)) return fail("pg: DataRow does not match its RowDescription");
      return;
    case EventKind::kCommandComplete:
      op.result.set_tag(e.body);
      return;
    case EventKind::kError: {
      ServerError err = ServerError::from_body(e.body);
      if (err.fatal()) fatal_ = err.what();
      if (op.error) return;
      if (op.stmt && !op.stmt->parsed) {
        if (op.parses) {
          // The Parse failed: the statement does not exist on the server. Later queries that
          // were pipelined naming it fail with this error, not "prepared statement does not
          // exist"; new ones parse it again.
          op.stmt->parse_error = std::make_exception_ptr(err);
          auto it = stmts_.find(op.stmt->sql);
          if (it != stmts_.end() && it->second == op.stmt) stmts_.erase(it);
        } else if (op.stmt->parse_error) {
          op.error = op.stmt->parse_error;
          return;
        }
      }
      if (op.stmt && !op.parses) forget_if_stale(op.stmt, err.sqlstate());
      op.error = std::make_exception_ptr(std::move(err));
      return;
    }
    case EventKind::kReady:
      return finish_front();
    case EventKind::kCopyInResponse:
      // COPY FROM STDIN would read the queries pipelined behind it as its data (§55.2.6).
      return fail("pg: COPY FROM STDIN is not supported by query(); the connection was closed");
    default:
      return;  // BindComplete, ParameterDescription, CloseComplete, COPY TO STDOUT data, notices
  }
}

void Connection::finish_front() {
  Op op = std::move(ops_.front());
  ops_.pop_front();
  if (!op.stmt) return;  // a Close of an evicted statement
  if (op.error) {
    op.pr.set_exception(std::move(op.error));
    return;
  }
  if (!op.result.has_columns()) op.result.set_columns(op.stmt->columns);
  op.pr.set_value(std::move(op.result));
}

std::shared_ptr<Connection::Stmt> Connection::statement_for(std::string_view sql, bool& parses) {
  if (config_.statement_cache_size == 0) {  // the unnamed statement, parsed every time
    parses = true;
    auto s = std::make_shared<Stmt>();
    return s;
  }
  if (auto it = stmts_.find(sql); it != stmts_.end()) {
    it->second->last_use = ++use_clock_;
    parses = false;
    return it->second;
  }
  if (stmts_.size() >= config_.statement_cache_size) evict_one();
  auto s = std::make_shared<Stmt>();
  s->name = "fa_" + std::to_string(++stmt_counter_);
  s->sql = std::string(sql);
  s->last_use = ++use_clock_;
  stmts_.emplace(s->sql, s);
  parses = true;
  return s;
}

void Connection::forget_if_stale(const std::shared_ptr<Stmt>& stmt, std::string_view sqlstate) {
  // 0A000 "cached plan must not change result type": the table changed under the prepared
  // statement (ALTER TABLE); 26000: it no longer exists (DEALLOCATE/DISCARD). Either way the
  // cache entry is useless: drop it so the next use prepares the SQL afresh.
  if (sqlstate != "0A000" && sqlstate != "26000") return;
  auto it = stmts_.find(stmt->sql);
  if (it == stmts_.end() || it->second != stmt) return;
  stmts_.erase(it);
  if (sqlstate == "0A000") {  // it still exists on the server
    FrontendWriter& w = proto_.writer();
    w.close_statement(stmt->name);
    w.sync();
    ops_.emplace_back();  // references to the front Op stay valid (deque growth at the back)
    schedule_flush();
  }
}

void Connection::evict_one() {
  auto victim = stmts_.begin();
  for (auto it = stmts_.begin(); it != stmts_.end(); ++it)
    if (it->second->last_use < victim->second->last_use) victim = it;
  if (victim == stmts_.end()) return;
  // Queued behind every query already written that names it, so none of them loses it.
  FrontendWriter& w = proto_.writer();
  w.close_statement(victim->second->name);
  w.sync();
  ops_.emplace_back();
  stmts_.erase(victim);
}

template <typename WriteParams>
future<Result> Connection::enqueue(std::string_view sql, std::span<const int16_t> formats,
                                   int16_t count, const WriteParams& write_params) {
  if (state_ != State::kReady)
    return make_exception_future<Result>(
        ConnectionError(broken() ? "pg: the connection is broken or closed"
                                 : "pg: the connection is not ready yet"));
  if (sql.find('\0') != std::string_view::npos)
    return invalid("pg: SQL must not contain NUL characters");
  bool parses = false;
  std::shared_ptr<Stmt> stmt = statement_for(sql, parses);
  FrontendWriter& w = proto_.writer();
  if (parses) {
    w.parse(stmt->name, sql, {});
    w.describe_statement(stmt->name);
  }
  w.begin_bind("", stmt->name, formats, count);
  write_params(w);
  w.end_bind(kAllBinary);
  w.execute("", 0);
  w.sync();
  Op& op = ops_.emplace_back();
  op.stmt = std::move(stmt);
  op.parses = parses;
  schedule_flush();
  return op.pr.get_future();
}

future<Result> Connection::query(std::string_view sql, std::span<const Param> params) {
  if (params.size() > kMaxParams) return invalid("pg: more than 65535 parameters");
  static thread_local std::vector<int16_t> formats;
  formats.clear();
  bool any_binary = false;
  for (const Param& p : params) any_binary |= p.format() != 0;
  if (any_binary)
    for (const Param& p : params) formats.push_back(p.format());
  return enqueue(sql, formats, static_cast<int16_t>(params.size()), [&](FrontendWriter& w) {
    for (const Param& p : params) {
      if (p.is_null()) {
        w.bind_null();
        continue;
      }
      size_t pos = w.begin_param();
      p.encode(w.out());
      w.end_param(pos);
    }
  });
}

future<Result> Connection::query(std::string_view sql, const EncodedParams& params) {
  return enqueue(sql, params.formats, params.count,
                 [&](FrontendWriter& w) { w.out().append(params.values); });
}

void Connection::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // After the iteration's handlers and timers: every query issued in this turn goes out in
  // one send() (auto-pipelining).
  loop_.defer([w = weak_from_this()] {
    if (auto self = w.lock()) {
      self->flush_scheduled_ = false;
      self->flush();
    }
  });
}

void Connection::flush() {
  if (fd_ < 0 || broken()) return;
  std::string& out = proto_.out();
  while (wpos_ < out.size()) {
    ssize_t n = ::send(fd_, out.data() + wpos_, out.size() - wpos_, MSG_NOSIGNAL);
    ++sends_;
    if (n > 0) {
      wpos_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!want_write_) {
        want_write_ = true;
        update_interest();
      }
      return;
    }
    return fail(errno_text("pg: send"));
  }
  out.clear();
  wpos_ = 0;
  if (want_write_) {
    want_write_ = false;
    update_interest();
  }
}

void Connection::update_interest() {
  if (fd_ >= 0) loop_.modify(fd_, EPOLLIN | EPOLLRDHUP | (want_write_ ? EPOLLOUT : 0u), this);
}

void Connection::close() {
  if (broken()) return;
  if (state_ == State::kReady && fd_ >= 0) {
    proto_.writer().terminate();  // best effort: the server ends the session at once (§55.2.8)
    flush();
  }
  fail("pg: connection closed");
  state_ = State::kClosed;
}

void Connection::fail(const std::string& reason, std::exception_ptr connect_error) {
  if (state_ == State::kBroken || state_ == State::kClosed) return;
  state_ = State::kBroken;
  // The loop may still name this handler later in the current batch, and the connect timer
  // may hold the last reference: keep it alive until the deferred task runs.
  auto self = shared_from_this();
  loop_.defer([self] {});
  if (connect_timer_) loop_.cancel(std::exchange(connect_timer_, 0));
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  auto err = std::make_exception_ptr(ConnectionError(reason));
  if (!connect_done_) {
    connect_done_ = true;
    connect_pr_.set_exception(connect_error ? connect_error : err);
  }
  // The pool forgets this connection first, so callers that retry from their continuations
  // are sent elsewhere.
  if (auto fn = std::move(on_broken_)) {
    on_broken_ = nullptr;
    fn(*this);
  }
  auto ops = std::move(ops_);
  ops_.clear();
  for (Op& op : ops)
    if (op.stmt) op.pr.set_exception(err);
}

}  // namespace fa::pg
