// pg Core: runs fa::pg::Protocol for one connection; requests are queued FIFO and answered in order.
#include "pg_core.h"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <algorithm>
#include <cctype>
#include <deque>
#include <optional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "pg/backend.h"
#include "pg/protocol.h"
#include "pg/wire.h"
#include "pg_codecs.h"
#include "pg_record.h"
#include "pg_statement.h"

namespace nb = nanobind;

namespace fa::py::pg {

namespace {

using fa::pg::EventKind;

constexpr size_t kCopyChunkBytes = 256 * 1024;  // CopyData message size and copy_out sink batch

// Never destroyed: a global nb::object would be released after the interpreter finalized.
nb::object& g_error_factory = *new nb::object();  // callable(fields: dict[str, str]) -> exception

enum class OpKind {
  kStartup,
  kPrepare,
  kExecute,
  kExecMany,
  kExecEach,
  kSimple,
  kCopyOut,
  kCopyIn,
  kClose
};
// Result modes of kExecute / kSimple. kFetchMany: execute_many collecting every run's rows (one
// list, as asyncpg's fetchmany); execute_many's default is kStatus (executemany: None).
// kFetchRowEach: execute_many as N independent fetchrow queries (a Sync each, kExecEach).
enum Mode : int {
  kFetch = 0,
  kFetchRow = 1,
  kFetchVal = 2,
  kStatus = 3,
  kResult = 4,
  kFetchMany = 5,
  kFetchRowEach = 6,
};

// What to send when the server unexpectedly enters COPY FROM STDIN for a request that is not a
// copy_in (§55.2.6): a simple Query needs only CopyFail; one Execute needs CopyFail + Sync (the Sync
// sent with it was ignored in copy mode); with several Executes the next Bind already aborted it.
enum class RefuseCopy { kFail, kFailSync, kNothing };

struct Op {
  OpKind kind;
  int mode = kStatus;
  uint64_t seq = 0;       // position in the request stream
  bool gate = false;      // requests queued after this one are held back until it completes
  bool sent = true;       // false while its bytes wait in `held` (behind a gate or a pause)
  RefuseCopy refuse = RefuseCopy::kFail;
  std::string held;
  nb::object on_ready;    // kCopyIn: called when the server asks for the data (CopyInResponse)
  nb::object stmt_obj;
  Statement* stmt = nullptr;
  RowShape simple_shape;  // kSimple: text columns of the current statement
  nb::object rows;        // list of Records
  nb::object first;       // fetchrow / fetchval
  nb::object error;
  nb::object sink;        // kCopyOut: callable(bytes)
  std::string copy_buf;
  std::string tag;
  bool have_first = false;
  // kExecEach: ReadyForQuery messages still due (one per query), and how many queries failed.
  // rows collects one outcome per query: its first row, None, or its error.
  size_t each_left = 0;
  size_t each_failed = 0;
};

nb::object error_from_body(std::string_view body) {
  std::vector<std::pair<char, std::string_view>> fields;
  fa::pg::parse_error_fields(body, fields);
  nb::dict d;
  for (auto& [k, v] : fields) d[nb::str(&k, 1)] = nb::str(v.data(), v.size());
  if (!g_error_factory.is_valid()) return d;
  return g_error_factory(d);
}

using UserCodecs = std::unordered_map<uint32_t, UserCodec>;

void build_shape(RowShape& s, const std::vector<fa::pg::FieldDesc>& fields, bool text_only,
                 const UserCodecs& user) {
  nb::list names;
  nb::dict index;
  s.decoders.clear();
  s.oids.clear();
  s.formats.clear();
  s.user_decoders.clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    auto u = user.find(fields[i].type_oid);
    if (u != user.end()) {
      if (s.user_decoders.empty()) s.user_decoders.resize(fields.size());
      s.user_decoders[i] = u->second.decoder;
    }
    bool as_text = text_only || u != user.end();
    nb::str name(fields[i].name.data(), fields[i].name.size());
    names.append(name);
    if (!index.contains(name)) index[name] = nb::int_(i);
    Decoder dec = as_text ? nullptr : binary_decoder(fields[i].type_oid);
    s.decoders.push_back(dec ? dec : decode_text);
    s.formats.push_back(dec ? 1 : 0);
    s.oids.push_back(fields[i].type_oid);
  }
  s.keys = nb::tuple(names);
  s.index = index;
}

// Decodes a DataRow into a Record; nullptr with a Python exception on failure.
// Whether sql mentions STDIN (ASCII case-insensitive): only such a statement can start COPY FROM
// STDIN, which reads the messages that follow it on the wire as copy data.
bool mentions_stdin(std::string_view sql) {
  static constexpr std::string_view kWord = "stdin";
  if (sql.size() < kWord.size()) return false;
  for (size_t i = 0; i + kWord.size() <= sql.size(); ++i) {
    size_t k = 0;
    while (k < kWord.size() && (sql[i + k] | 0x20) == kWord[k]) ++k;
    if (k == kWord.size()) return true;
  }
  return false;
}

// Whether a single statement is COPY (its first keyword, after blanks and comments).
bool starts_with_copy(std::string_view sql) {
  size_t i = 0;
  for (;;) {
    while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r' || sql[i] == '\f'))
      ++i;
    if (sql.substr(i, 2) == "--") {
      size_t e = sql.find('\n', i);
      if (e == std::string_view::npos) return false;
      i = e + 1;
    } else if (sql.substr(i, 2) == "/*") {
      int depth = 0;  // PostgreSQL block comments nest
      while (i < sql.size()) {
        if (sql.substr(i, 2) == "/*") { ++depth; i += 2; }
        else if (sql.substr(i, 2) == "*/") { i += 2; if (--depth == 0) break; }
        else ++i;
      }
      if (depth != 0) return false;
    } else {
      break;
    }
  }
  if (sql.size() - i < 4) return false;
  for (size_t k = 0; k < 4; ++k)
    if ((sql[i + k] | 0x20) != "copy"[k]) return false;
  if (i + 4 == sql.size()) return true;
  unsigned char c = static_cast<unsigned char>(sql[i + 4]);
  return !(std::isalnum(c) || c == '_' || c == '$' || c >= 0x80);
}

void check_sql(std::string_view sql) {
  if (sql.find('\0') != std::string_view::npos) throw nb::value_error("SQL must not contain NUL characters");
}

void append_copy_data(std::string& dst, std::string_view data) {
  dst.push_back('d');
  fa::pg::append_be<int32_t>(dst, static_cast<int32_t>(data.size() + 4));
  dst.append(data);
}

void append_copy_fail(std::string& dst, std::string_view reason) {
  dst.push_back('f');
  fa::pg::append_be<int32_t>(dst, static_cast<int32_t>(reason.size() + 5));
  dst.append(reason);
  dst.push_back('\0');
}

// Restores out() to its size at construction unless disarmed: a request that fails while being
// encoded (a bad argument, an iterator that raises) leaves nothing queued.
struct Rollback {
  std::string& out;
  size_t mark;
  bool armed = true;
  explicit Rollback(std::string& o) : out(o), mark(o.size()) {}
  ~Rollback() { if (armed) out.resize(mark); }
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
};

PyObject* decode_row(const RowShape& s, std::string_view body) {
  fa::pg::DataRowReader r(body);
  size_t n = s.decoders.size();
  if (static_cast<size_t>(r.count()) != n) {
    PyErr_SetString(PyExc_ValueError, "DataRow column count does not match RowDescription");
    return nullptr;
  }
  PyObject* rec = record_new(static_cast<Py_ssize_t>(n), s.keys.ptr(), s.index.ptr());
  if (!rec) return nullptr;
  std::string_view v;
  bool null = false;
  for (size_t i = 0; i < n; ++i) {
    if (!r.next(v, null)) {
      Py_DECREF(rec);
      PyErr_SetString(PyExc_ValueError, "malformed DataRow");
      return nullptr;
    }
    PyObject* o;
    if (null) {
      Py_INCREF(Py_None);
      o = Py_None;
    } else {
      o = s.decoders[i](v.data(), v.size());
      if (o && !s.user_decoders.empty() && s.user_decoders[i].is_valid()) {
        PyObject* u = PyObject_CallOneArg(s.user_decoders[i].ptr(), o);
        Py_DECREF(o);
        o = u;
      }
      if (!o) { Py_DECREF(rec); return nullptr; }
    }
    record_set(rec, static_cast<Py_ssize_t>(i), o);
  }
  return rec;
}

// Decodes only the first column (fetchval).
PyObject* decode_first_value(const RowShape& s, std::string_view body) {
  fa::pg::DataRowReader r(body);
  std::string_view v;
  bool null = false;
  if (s.decoders.empty() || !r.next(v, null)) Py_RETURN_NONE;
  if (null) Py_RETURN_NONE;
  PyObject* o = s.decoders[0](v.data(), v.size());
  if (o && !s.user_decoders.empty() && s.user_decoders[0].is_valid()) {
    PyObject* u = PyObject_CallOneArg(s.user_decoders[0].ptr(), o);
    Py_DECREF(o);
    o = u;
  }
  return o;
}

class Core {
 public:
  Core(std::string user, std::string password, std::string database,
       std::vector<std::pair<std::string, std::string>> options)
      : proto_(fa::pg::ConnectParams{std::move(user), std::move(password), std::move(database),
                                     std::move(options)}) {}

  // Queues the StartupMessage; its result (None or an exception) arrives with the first ReadyForQuery.
  void start() {
    proto_.start();
    push(OpKind::kStartup);
  }

  nb::bytes take_out() {
    std::string& o = proto_.out();
    nb::bytes b(o.data(), o.size());
    o.clear();
    return b;
  }
  bool has_out() { return !proto_.out().empty(); }
  std::string& out() { return proto_.out(); }

  // Parse + Describe + Sync; the result is the Statement (or an exception).
  nb::object prepare(std::string name, std::string sql) {
    check_sql(sql);
    check_sql(name);
    Statement fresh;
    fresh.name = name;
    fresh.sql = sql;
    fresh.may_copy_in = starts_with_copy(sql) && mentions_stdin(sql);
    nb::object st = nb::cast(std::move(fresh));
    Rollback rb(proto_.out());
    auto* w = &proto_.writer();
    w->parse(name, sql, {});
    w->describe_statement(name);
    w->sync();
    Op& op = commit(OpKind::kPrepare, rb);
    op.stmt_obj = st;
    op.stmt = nb::inst_ptr<Statement>(st);
    return st;
  }

  // Bind + Execute + Sync for a prepared statement; result according to mode.
  void execute(nb::handle stmt_obj, nb::handle args, int mode) {
    if (mode < kFetch || mode > kResult) throw nb::value_error("execute: unknown result mode");
    Statement* st = nb::inst_ptr<Statement>(stmt_obj);
    Rollback rb(proto_.out());
    if (!bind(*st, args, rb.mark)) throw nb::python_error();
    proto_.writer().execute("", 0);
    proto_.writer().sync();
    Op& op = commit(OpKind::kExecute, rb);
    op.refuse = RefuseCopy::kFailSync;
    if (st->may_copy_in) set_gate(op);
    op.mode = mode;
    op.stmt_obj = nb::borrow(stmt_obj);
    op.stmt = st;
    if (mode == kFetch || mode == kResult) op.rows = nb::list();
  }

  // One Bind + Execute per argument tuple, one Sync (§55.2.3: the runs are one implicit
  // transaction, an error skips the rest up to the Sync and rolls them all back). The result is
  // None (mode kStatus: executemany) or every run's rows in one list (kFetchMany: fetchmany), or
  // the first error. Every row is encoded before anything is queued: a bad row raises and queues
  // nothing.
  void execute_many(nb::handle stmt_obj, nb::iterable arg_rows, int mode = kStatus) {
    if (mode == kFetchRowEach) return execute_each(stmt_obj, arg_rows);
    if (mode != kStatus && mode != kFetchMany)
      throw nb::value_error(
          "execute_many: mode must be MODE_STATUS, MODE_FETCHMANY or MODE_FETCHROW_EACH");
    Statement* st = nb::inst_ptr<Statement>(stmt_obj);
    Rollback rb(proto_.out());
    size_t n = 0;
    for (nb::handle args : arg_rows) {
      if (!bind(*st, args, rb.mark)) throw nb::python_error();
      proto_.writer().execute("", 0);
      ++n;
    }
    proto_.writer().sync();
    if (st->may_copy_in && n > 1)  // the second Bind would end the COPY with a FATAL error
      throw nb::value_error("executemany cannot run COPY ... FROM STDIN; use copy_in / copy_to_table");
    Op& op = commit(OpKind::kExecMany, rb);
    op.refuse = n == 1 ? RefuseCopy::kFailSync : RefuseCopy::kNothing;
    if (st->may_copy_in) set_gate(op);
    op.mode = mode == kFetchMany ? kFetch : kStatus;
    if (mode == kFetchMany) op.rows = nb::list();
    op.stmt_obj = nb::borrow(stmt_obj);
    op.stmt = st;
  }

  // N independent fetchrow queries as one request: Bind + Execute + Sync per argument tuple
  // (§55.2.3: each Sync ends its query's implicit transaction, so an error in one skips and undoes
  // nothing of another). One Op, one waiter: it completes at the N-th ReadyForQuery. Its result is
  // a list of the N outcomes in argument order (the first row as a Record, or None), or, when any
  // query failed, a tuple of them with the error instance in place of each failed query's row (a
  // type check tells the caller whether to look). Every tuple is encoded before anything is
  // queued: a bad one raises and queues nothing. Cancelling it (PgProtocol.cancel_request) can
  // only interrupt its own queries: requests queued after it are held until all N answered.
  void execute_each(nb::handle stmt_obj, nb::iterable arg_rows) {
    Statement* st = nb::inst_ptr<Statement>(stmt_obj);
    if (st->may_copy_in)  // a Bind after COPY's Sync would end the COPY with a FATAL error
      throw nb::value_error("fetchrow_each cannot run COPY ... FROM STDIN; use copy_in");
    Rollback rb(proto_.out());
    size_t n = 0;
    for (nb::handle args : arg_rows) {
      if (!bind(*st, args, rb.mark)) throw nb::python_error();
      proto_.writer().execute("", 0);
      proto_.writer().sync();
      ++n;
    }
    if (n == 0) throw nb::value_error("execute_many: MODE_FETCHROW_EACH needs at least one tuple");
    Op& op = commit(OpKind::kExecEach, rb);
    op.mode = kFetchRow;  // per query: the first row
    op.rows = nb::steal(PyList_New(0));
    op.each_left = n;
    op.stmt_obj = nb::borrow(stmt_obj);
    op.stmt = st;
  }

  // Simple Query (text results, several statements allowed); result: status tag or rows.
  void simple_query(const std::string& sql, int mode) {
    check_sql(sql);
    Rollback rb(proto_.out());
    proto_.writer().query(sql);
    Op& op = commit(OpKind::kSimple, rb);
    if (mentions_stdin(sql)) set_gate(op);
    op.mode = mode;
    if (mode == kFetch || mode == kResult) op.rows = nb::list();
  }

  // COPY ... TO STDOUT; data goes to sink(bytes) in batches; the result is the status tag.
  void copy_out(const std::string& sql, nb::object sink) {
    check_sql(sql);
    Rollback rb(proto_.out());
    proto_.writer().query(sql);
    Op& op = commit(OpKind::kCopyOut, rb);
    if (mentions_stdin(sql)) set_gate(op);
    op.sink = std::move(sink);
  }

  // COPY ... FROM STDIN, streamed (§55.2.6): queues the Query; on_ready() is called when the
  // server asks for the data; then copy_data() per chunk and copy_end(). The result is the status
  // tag. Nothing else may reach the server between the Query and CopyDone/CopyFail (it would be
  // read as copy data), so requests queued after this one are held back until it completes.
  void copy_in_start(const std::string& sql, nb::object on_ready) {
    check_sql(sql);
    if (copy_op_) throw nb::value_error("a COPY FROM STDIN is already in progress on this connection");
    Rollback rb(proto_.out());
    proto_.writer().query(sql);
    Op& op = commit(OpKind::kCopyIn, rb);
    set_gate(op);
    op.on_ready = std::move(on_ready);
    copy_op_ = &op;
  }

  // Appends one bytes-like chunk as CopyData messages; TypeError (nothing written) otherwise.
  void copy_data(nb::handle chunk) {
    if (!copy_op_) throw nb::value_error("no COPY FROM STDIN in progress");
    Py_buffer view;
    if (PyObject_GetBuffer(chunk.ptr(), &view, PyBUF_SIMPLE) < 0) {
      PyObject *type, *value, *tb;
      PyErr_Fetch(&type, &value, &tb);
      Py_XDECREF(type);
      Py_XDECREF(value);
      Py_XDECREF(tb);
      PyErr_Format(PyExc_TypeError, "COPY data must be bytes-like, not %.100s", Py_TYPE(chunk.ptr())->tp_name);
      throw nb::python_error();
    }
    std::string_view data(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
    std::string& dst = copy_dst();
    while (!data.empty()) {
      size_t n = std::min(data.size(), kCopyChunkBytes);
      append_copy_data(dst, data.substr(0, n));
      data.remove_prefix(n);
    }
    PyBuffer_Release(&view);
  }

  // Ends the COPY: CopyDone, or CopyFail(reason) when reason is given (the server then answers with
  // an error). Does nothing if the COPY already ended.
  void copy_end(std::optional<std::string> reason) {
    if (!copy_op_) return;
    std::string& dst = copy_dst();
    if (reason) append_copy_fail(dst, *reason);
    else dst.append("c\0\0\0\4", 5);
    copy_op_ = nullptr;
  }

  bool copy_open() const { return copy_op_ != nullptr; }

  // Binary COPY tuples (no header or trailer) for records, encoded with the column types of
  // shape_stmt's result. Raises (TypeError/ValueError/OverflowError) on a bad record.
  nb::bytes encode_copy_records(nb::handle shape_stmt, nb::iterable records) {
    Statement* st = nb::inst_ptr<Statement>(shape_stmt);
    std::string buf;
    size_t ncols = st->columns.oids.size();
    for (nb::handle rec : records) {
      PyObject* seq = PySequence_Fast(rec.ptr(), "copy_records_to_table: each record must be a sequence");
      if (!seq) throw nb::python_error();
      if (static_cast<size_t>(PySequence_Fast_GET_SIZE(seq)) != ncols) {
        Py_DECREF(seq);
        throw nb::value_error("copy_records_to_table: record length does not match the column count");
      }
      fa::pg::append_be<int16_t>(buf, static_cast<int16_t>(ncols));
      for (size_t i = 0; i < ncols; ++i) {
        PyObject* v = PySequence_Fast_GET_ITEM(seq, static_cast<Py_ssize_t>(i));
        if (v == Py_None) { fa::pg::append_be<int32_t>(buf, -1); continue; }
        uint32_t o = st->columns.oids[i];
        Encoder enc = binary_encoder(o);
        if (!enc) {
          Py_DECREF(seq);
          throw nb::type_error("copy_records_to_table: no binary codec for a column type");
        }
        size_t pos = buf.size();
        fa::pg::append_be<int32_t>(buf, 0);
        if (!enc(v, o, buf)) { Py_DECREF(seq); throw nb::python_error(); }
        fa::pg::put_be<int32_t>(buf, pos, static_cast<int32_t>(buf.size() - pos - 4));
      }
      Py_DECREF(seq);
    }
    return nb::bytes(buf.data(), buf.size());
  }

  // Holds back every request queued from now on until resume() (used while a CancelRequest is in
  // flight, so it cannot hit a later request). Returns false, and does nothing, when a request
  // queued after the one at `index` has already been released for sending.
  bool pause_after(size_t index) {
    if (index >= ops_.size()) return false;
    for (size_t i = index + 1; i < ops_.size(); ++i)
      if (ops_[i].sent) return false;
    pause_after_ = std::min(pause_after_, ops_[index].seq);
    return true;
  }

  void resume() {
    pause_after_ = kNoPause;
    flush_held();
  }

  // Replaces the request at `index`, if it has not been released for sending yet (it is held),
  // by a bare Sync: it is never executed, and its (empty, ignored) result still arrives in order.
  // Returns false when it was sent already (or is a COPY IN / the startup).
  bool forget_unsent(size_t index) {
    if (index >= ops_.size()) return false;
    Op& op = ops_[index];
    if (op.sent || op.kind == OpKind::kCopyIn || op.kind == OpKind::kStartup) return false;
    op.held.assign("S\0\0\0\4", 5);
    op.each_left = 1;  // a fetchrow_each batch now waits for that one ReadyForQuery
    if (op.gate) {  // a Sync cannot start a COPY: nothing to hold behind it
      op.gate = false;
      --gates_;
    }
    return true;
  }

  bool paused() const { return pause_after_ != kNoPause; }

  // Close a named statement (frees it on the server); result None.
  void close_statement(const std::string& name) {
    check_sql(name);
    Rollback rb(proto_.out());
    proto_.writer().close_statement(name);
    proto_.writer().sync();
    commit(OpKind::kClose, rb);
  }

  void terminate() { proto_.writer().terminate(); }

  // Feeds received bytes; returns the results of the requests that completed, in request order.
  nb::list feed(nb::bytes data) {
    nb::list done;
    feed_each(std::string_view(data.c_str(), data.size()),
              [&done](nb::object r) { done.append(std::move(r)); });
    return done;
  }

  // Feeds received bytes; calls on_result(result) for each request that completed, in order.
  template <typename F>
  void feed_each(std::string_view data, F&& on_result) {
    proto_.feed(data);
    auto done = [&on_result](nb::object r) { on_result(std::move(r)); };
    for (;;) {
      fa::pg::Event e = proto_.next();
      switch (e.kind) {
        case EventKind::kNeedMore: return;
        case EventKind::kProtocolError:
          broken_ = true;
          if (!ops_.empty() && ops_.front().error.is_valid()) {
            nb::object err = ops_.front().error;
            pop_front();
            done(std::move(err));
          }
          return;
        case EventKind::kParameterStatus:
        case EventKind::kBackendKeyData: continue;
        case EventKind::kNotice:
          if (notice_cb_.is_valid()) notice_cb_(error_from_body(e.body));
          continue;
        case EventKind::kNotification: {
          fa::pg::Notification n;
          if (fa::pg::parse_notification(e.body, n) && notify_cb_.is_valid())
            notify_cb_(n.pid, nb::str(n.channel.data(), n.channel.size()),
                       nb::str(n.payload.data(), n.payload.size()));
          continue;
        }
        default: break;
      }
      if (ops_.empty()) {
        broken_ = true;
        unexpected_ = true;
        return;
      }
      Op& op = ops_.front();
      if (on_event(op, e)) {
        nb::object r = result(op);
        pop_front();
        done(std::move(r));
      }
    }
  }

  // Drops every pending request (connection lost); returns each one's server error or None.
  nb::list abort() {
    nb::list out;
    for (Op& op : ops_) out.append(op.error.is_valid() ? op.error : nb::none());
    ops_.clear();
    copy_op_ = nullptr;
    gates_ = 0;
    unsent_ = 0;
    pause_after_ = kNoPause;
    broken_ = true;
    return out;
  }

  std::string error() const {
    if (unexpected_) return "unexpected message from server with no request pending";
    return proto_.error();
  }

  size_t pending() const { return ops_.size(); }
  size_t held() const { return unsent_; }
  bool broken() const { return broken_; }
  std::string tx_status() const { return std::string(1, proto_.tx_status()); }
  int32_t backend_pid() const { return proto_.backend_pid(); }
  int32_t secret_key() const { return proto_.secret_key(); }
  nb::dict server_params() const {
    nb::dict d;
    for (auto& [k, v] : proto_.server_params()) d[nb::str(k.c_str())] = nb::str(v.c_str());
    return d;
  }
  void set_notify_callback(nb::object cb) { notify_cb_ = std::move(cb); }
  void set_notice_callback(nb::object cb) { notice_cb_ = std::move(cb); }
  // Registers text-format codecs for a type OID; applies to statements prepared afterwards.
  void set_type_codec(uint32_t oid, nb::object encoder, nb::object decoder) {
    user_codecs_[oid] = UserCodec{std::move(encoder), std::move(decoder)};
  }

 private:
  static constexpr uint64_t kNoPause = std::numeric_limits<uint64_t>::max();

  Op& push(OpKind k) {
    ops_.emplace_back();
    ops_.back().kind = k;
    ops_.back().seq = ++seq_;
    return ops_.back();
  }

  // Registers the request whose bytes were written to out() since rb was armed. While a gate or a
  // pause is in force its bytes are moved aside (held) and sent later, in order, by flush_held().
  Op& commit(OpKind k, Rollback& rb) {
    Op& op = push(k);
    if (unsent_ > 0 || gates_ > 0 || op.seq > pause_after_) {
      std::string& out = proto_.out();
      op.held.assign(out, rb.mark, std::string::npos);
      out.resize(rb.mark);
      op.sent = false;
      ++unsent_;
    }
    rb.armed = false;
    return op;
  }

  void set_gate(Op& op) {
    op.gate = true;
    ++gates_;
  }

  // Where the open COPY's data goes: out(), or after its Query while that is still held.
  std::string& copy_dst() { return copy_op_->sent ? proto_.out() : copy_op_->held; }

  void pop_front() {
    Op& op = ops_.front();
    bool gate = op.gate;
    if (&op == copy_op_) copy_op_ = nullptr;
    ops_.pop_front();
    if (gate) {
      --gates_;
      flush_held();
    }
  }

  // Releases held requests in order, up to the next pending gate or the pause point.
  void flush_held() {
    if (unsent_ == 0) return;
    for (Op& op : ops_) {
      if (!op.sent) {
        if (op.seq > pause_after_) break;
        proto_.out().append(op.held);
        std::string().swap(op.held);
        op.sent = true;
        --unsent_;
      }
      if (op.gate) break;
    }
  }

  // Writes one Bind for st with args; on failure restores out to mark and returns false.
  bool bind(Statement& st, nb::handle args, size_t mark) {
    std::string& out = proto_.out();
    PyObject* seq = PySequence_Fast(args.ptr(), "query arguments must be a sequence");
    if (!seq) return false;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (static_cast<size_t>(n) != st.param_oids.size()) {
      Py_DECREF(seq);
      out.resize(mark);
      PyErr_Format(PyExc_TypeError, "the query expects %zu arguments, %zd were passed", st.param_oids.size(), n);
      return false;
    }
    // A str passed for a non-text parameter ("42" for int4) is sent in text format for the server
    // to parse, as libpq would: path parameters arrive as str.
    static const Encoder text_encoder = binary_encoder(oid::kText);
    const std::vector<int16_t>* formats = &st.param_formats;
    std::vector<int16_t> local;
    for (Py_ssize_t i = 0; i < n; ++i) {
      size_t k = static_cast<size_t>(i);
      if (st.param_formats[k] == 1 && st.encoders[k] != text_encoder &&
          PyUnicode_Check(PySequence_Fast_GET_ITEM(seq, i))) {
        if (local.empty()) local = st.param_formats;
        local[k] = 0;
        formats = &local;
      }
    }
    auto& w = proto_.writer();
    w.begin_bind("", st.name, *formats, static_cast<int16_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* v = PySequence_Fast_GET_ITEM(seq, i);
      if (v == Py_None) { w.bind_null(); continue; }
      size_t pos = w.begin_param();
      bool ok;
      Encoder enc = (*formats)[static_cast<size_t>(i)] == 1 ? st.encoders[static_cast<size_t>(i)] : nullptr;
      if (enc) {
        ok = enc(v, st.param_oids[static_cast<size_t>(i)], out);
      } else {
        const bool user = !st.user_encoders.empty() && st.user_encoders[static_cast<size_t>(i)].is_valid();
        PyObject* s = user ? PyObject_CallOneArg(st.user_encoders[static_cast<size_t>(i)].ptr(), v) : PyObject_Str(v);
        if (s && !PyUnicode_Check(s)) {
          Py_DECREF(s);
          s = nullptr;
          PyErr_SetString(PyExc_TypeError, "a type codec's encoder must return str");
        }
        Py_ssize_t len = 0;
        const char* p = s ? PyUnicode_AsUTF8AndSize(s, &len) : nullptr;
        if (p) out.append(p, static_cast<size_t>(len));
        Py_XDECREF(s);
        ok = p != nullptr;
      }
      if (!ok) {
        Py_DECREF(seq);
        out.resize(mark);
        // Name the argument so the caller knows which one failed.
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyObject* msg = PyUnicode_FromFormat("invalid input for query argument $%zd: %S", i + 1, value);
        PyErr_SetObject(type, msg);
        Py_XDECREF(msg);
        Py_XDECREF(value);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        return false;
      }
      w.end_param(pos);
    }
    Py_DECREF(seq);
    w.end_bind(st.columns.formats);
    return true;
  }

  // Applies one event to the front request; returns true when it completed (ReadyForQuery).
  bool on_event(Op& op, const fa::pg::Event& e) {
    switch (e.kind) {
      case EventKind::kReady:
        return op.kind != OpKind::kExecEach || each_answered(op);
      case EventKind::kError:
        if (!op.error.is_valid()) op.error = error_from_body(e.body);
        return false;
      case EventKind::kParameterDescription:
        if (op.stmt) on_parameter_description(*op.stmt, e.body);
        return false;
      case EventKind::kRowDescription: {
        std::vector<fa::pg::FieldDesc> fields;
        if (!fa::pg::parse_row_description(e.body, fields)) {
          set_error(op, "malformed RowDescription");
          return false;
        }
        if (op.kind == OpKind::kPrepare) {
          build_shape(op.stmt->columns, fields, false, user_codecs_);
          op.stmt->has_rows = true;
        } else if (op.kind == OpKind::kSimple) {
          build_shape(op.simple_shape, fields, true, user_codecs_);
        }
        return false;
      }
      case EventKind::kDataRow: on_data_row(op, e.body); return false;
      case EventKind::kCommandComplete: op.tag.assign(e.body); return false;
      case EventKind::kCopyData:
        if (op.kind == OpKind::kCopyOut) {
          op.copy_buf.append(e.body);
          if (op.copy_buf.size() >= kCopyChunkBytes) flush_copy(op);
        }
        return false;
      case EventKind::kCopyDone:
        if (op.kind == OpKind::kCopyOut) flush_copy(op);
        return false;
      case EventKind::kCopyInResponse:
        if (op.kind == OpKind::kCopyIn) {
          if (op.on_ready.is_valid()) {
            nb::object cb = std::move(op.on_ready);
            try {
              cb();
            } catch (nb::python_error& err) {
              if (!op.error.is_valid()) op.error = nb::borrow(err.value());
            }
          }
        } else if (op.refuse != RefuseCopy::kNothing) {
          // COPY FROM STDIN through execute()/fetch(): refuse it (§55.2.6). The request is gated
          // (its SQL mentions STDIN), so nothing of another request follows it on the wire.
          proto_.writer().copy_fail("use copy_in / copy_to_table for COPY FROM STDIN");
          if (op.refuse == RefuseCopy::kFailSync) proto_.writer().sync();
        }
        return false;
      default: return false;  // ParseComplete, BindComplete, NoData, EmptyQuery, CopyOutResponse...
    }
  }

  // A ReadyForQuery of a kExecEach batch: one query answered; its outcome is appended and the
  // per-query state reset for the next. Returns whether it was the last.
  bool each_answered(Op& op) {
    PyObject* outcome = op.error.is_valid() ? op.error.ptr()
                        : op.have_first     ? op.first.ptr()
                                            : Py_None;
    if (PyList_Append(op.rows.ptr(), outcome) < 0) {
      PyErr_Clear();  // out of memory: the batch fails as a whole
      set_error(op, "fetchrow_each: cannot store a result");
      op.each_left = 1;
    } else if (op.error.is_valid()) {
      ++op.each_failed;
      op.error = nb::object();
    }
    op.first = nb::object();
    op.have_first = false;
    return --op.each_left == 0;
  }

  void on_parameter_description(Statement& st, std::string_view body) {
    if (!fa::pg::parse_parameter_description(body, st.param_oids)) return;
    st.encoders.clear();
    st.param_formats.clear();
    st.user_encoders.clear();
    for (uint32_t o : st.param_oids) {
      auto u = user_codecs_.find(o);
      if (u != user_codecs_.end()) {
        st.user_encoders.resize(st.param_oids.size());
        st.user_encoders[st.encoders.size()] = u->second.encoder;
        st.encoders.push_back(nullptr);
        st.param_formats.push_back(0);
        continue;
      }
      Encoder enc = binary_encoder(o);
      st.encoders.push_back(enc);
      st.param_formats.push_back(enc ? 1 : 0);
    }
  }

  void on_data_row(Op& op, std::string_view body) {
    if (op.error.is_valid()) return;
    const RowShape* shape = op.kind == OpKind::kSimple ? &op.simple_shape : op.stmt ? &op.stmt->columns : nullptr;
    if (!shape) return;
    if (op.mode == kFetch || op.mode == kResult) {
      PyObject* rec = decode_row(*shape, body);
      if (!rec) return capture_python_error(op);
      PyList_Append(op.rows.ptr(), rec);
      Py_DECREF(rec);
    } else if ((op.mode == kFetchRow || op.mode == kFetchVal) && !op.have_first) {
      PyObject* v = op.mode == kFetchRow ? decode_row(*shape, body) : decode_first_value(*shape, body);
      if (!v) return capture_python_error(op);
      op.first = nb::steal(v);
      op.have_first = true;
    }
  }

  void flush_copy(Op& op) {
    if (op.copy_buf.empty() || op.error.is_valid()) return;
    try {
      op.sink(nb::bytes(op.copy_buf.data(), op.copy_buf.size()));
    } catch (nb::python_error& err) {
      op.error = nb::borrow(err.value());
    }
    op.copy_buf.clear();
  }

  void capture_python_error(Op& op) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb) PyException_SetTraceback(value, tb);
    op.error = nb::steal(value);
    Py_XDECREF(type);
    Py_XDECREF(tb);
  }

  void set_error(Op& op, const char* msg) {
    if (!op.error.is_valid()) op.error = nb::steal(PyObject_CallOneArg(PyExc_ValueError, nb::str(msg).ptr()));
  }

  nb::object result(Op& op) {
    if (op.error.is_valid()) return op.error;
    switch (op.kind) {
      case OpKind::kPrepare: return op.stmt_obj;
      case OpKind::kExecEach:
        if (op.each_failed > 0) {
          if (PyObject* t = PyList_AsTuple(op.rows.ptr())) return nb::steal(t);
          PyErr_Clear();  // out of memory
          return nb::steal(PyObject_CallOneArg(PyExc_MemoryError, nb::str("fetchrow_each").ptr()));
        }
        return op.rows;
      case OpKind::kStartup:
      case OpKind::kClose: return nb::none();
      default: break;
    }
    switch (op.mode) {
      case kFetch: return op.rows;
      case kFetchRow:
      case kFetchVal: return op.have_first ? op.first : nb::none();
      case kResult: return nb::make_tuple(op.rows, nb::str(op.tag.c_str()));
      default: return nb::str(op.tag.c_str());
    }
  }

  fa::pg::Protocol proto_;
  std::deque<Op> ops_;
  nb::object notify_cb_;
  nb::object notice_cb_;
  UserCodecs user_codecs_;
  bool broken_ = false;
  bool unexpected_ = false;
  uint64_t seq_ = 0;
  uint64_t pause_after_ = kNoPause;  // requests with seq above this are held (a cancel in flight)
  int gates_ = 0;                    // pending requests with gate set
  size_t unsent_ = 0;                // requests whose bytes are held
  Op* copy_op_ = nullptr;            // the streaming COPY FROM STDIN not yet ended
};

}  // namespace

bool is_core(nb::handle core) { return nb::isinstance<Core>(core); }

void core_feed(nb::handle core, std::string_view data, void (*on_result)(void*, nb::object),
               void* ctx) {
  nb::inst_ptr<Core>(core)->feed_each(data, [&](nb::object r) { on_result(ctx, std::move(r)); });
}

std::string& core_out(nb::handle core) { return nb::inst_ptr<Core>(core)->out(); }
bool is_statement(nb::handle h) { return nb::isinstance<Statement>(h); }
void core_execute(nb::handle core, nb::handle stmt, nb::handle args, int mode) {
  nb::inst_ptr<Core>(core)->execute(stmt, args, mode);
}
void core_execute_many(nb::handle core, nb::handle stmt, nb::handle arg_rows, int mode) {
  nb::inst_ptr<Core>(core)->execute_many(stmt, nb::borrow<nb::iterable>(arg_rows), mode);
}
bool core_broken(nb::handle core) { return nb::inst_ptr<Core>(core)->broken(); }
std::string core_error(nb::handle core) { return nb::inst_ptr<Core>(core)->error(); }
nb::list core_abort(nb::handle core) { return nb::inst_ptr<Core>(core)->abort(); }

void register_core(nb::module_& m) {
  if (!codecs_init()) throw nb::python_error();
  nb::object rec = nb::steal(record_type_init());
  if (!rec.is_valid()) throw nb::python_error();
  m.attr("Record") = rec;

  nb::class_<Statement>(m, "Statement", "A prepared statement: name, sql, parameter and column types.")
      .def_ro("name", &Statement::name)
      .def_ro("sql", &Statement::sql)
      .def_ro("param_oids", &Statement::param_oids)
      .def_ro("has_rows", &Statement::has_rows)
      .def_prop_ro("column_names", [](Statement& s) { return s.columns.keys.is_valid() ? s.columns.keys : nb::tuple(); })
      .def_prop_ro("column_oids", [](Statement& s) { return s.columns.oids; });

  nb::class_<Core>(m, "Core", "One connection's protocol state: requests in, FIFO results out.")
      .def(nb::init<std::string, std::string, std::string,
                    std::vector<std::pair<std::string, std::string>>>(),
           nb::arg("user"), nb::arg("password"), nb::arg("database"), nb::arg("options"))
      .def("start", &Core::start)
      .def("take_out", &Core::take_out, "Bytes to send (and clears them).")
      .def_prop_ro("has_out", &Core::has_out)
      .def("prepare", &Core::prepare, nb::arg("name"), nb::arg("sql"))
      .def("execute", &Core::execute, nb::arg("stmt"), nb::arg("args"), nb::arg("mode"))
      .def("execute_many", &Core::execute_many, nb::arg("stmt"), nb::arg("args_iter"),
           nb::arg("mode") = static_cast<int>(kStatus),
           "One Bind/Execute per argument tuple and one Sync; mode MODE_STATUS (result None) or "
           "MODE_FETCHMANY (every run's rows in one list). MODE_FETCHROW_EACH: a Sync per tuple "
           "(independent queries), result the N first rows (or None) in a list, or a tuple with "
           "each failed query's error in place when any failed.")
      .def("simple_query", &Core::simple_query, nb::arg("sql"), nb::arg("mode"))
      .def("copy_out", &Core::copy_out, nb::arg("sql"), nb::arg("sink"))
      .def("copy_in_start", &Core::copy_in_start, nb::arg("sql"), nb::arg("on_ready"))
      .def("copy_data", &Core::copy_data, nb::arg("chunk"))
      .def("copy_end", &Core::copy_end, nb::arg("reason") = nb::none())
      .def_prop_ro("copy_open", &Core::copy_open)
      .def("encode_copy_records", &Core::encode_copy_records, nb::arg("shape_stmt"),
           nb::arg("records"))
      .def("pause_after", &Core::pause_after, nb::arg("index"))
      .def("resume", &Core::resume)
      .def("forget_unsent", &Core::forget_unsent, nb::arg("index"))
      .def_prop_ro("paused", &Core::paused)
      .def_prop_ro("held", &Core::held)
      .def("close_statement", &Core::close_statement, nb::arg("name"))
      .def("terminate", &Core::terminate)
      .def("feed", &Core::feed, nb::arg("data"),
           "Feeds bytes; returns results of completed requests in order.")
      .def("abort", &Core::abort)
      .def_prop_ro("error", &Core::error)
      .def_prop_ro("pending", &Core::pending)
      .def_prop_ro("broken", &Core::broken)
      .def_prop_ro("tx_status", &Core::tx_status)
      .def_prop_ro("backend_pid", &Core::backend_pid)
      .def_prop_ro("secret_key", &Core::secret_key)
      .def_prop_ro("server_params", &Core::server_params)
      .def("set_notify_callback", &Core::set_notify_callback)
      .def("set_notice_callback", &Core::set_notice_callback)
      .def("set_type_codec", &Core::set_type_codec, nb::arg("oid"), nb::arg("encoder"),
           nb::arg("decoder"));

  m.def("set_error_factory", [](nb::object f) { g_error_factory = std::move(f); },
        "Sets callable(fields: dict[str, str]) -> exception used for ErrorResponse.");
  m.def("cancel_request", [](int32_t pid, int32_t key) {
    std::string s = fa::pg::cancel_request(pid, key);
    return nb::bytes(s.data(), s.size());
  });
  m.def("ssl_request", [] {
    std::string s = fa::pg::ssl_request();
    return nb::bytes(s.data(), s.size());
  });
  m.attr("MODE_FETCH") = static_cast<int>(kFetch);
  m.attr("MODE_FETCHROW") = static_cast<int>(kFetchRow);
  m.attr("MODE_FETCHVAL") = static_cast<int>(kFetchVal);
  m.attr("MODE_STATUS") = static_cast<int>(kStatus);
  m.attr("MODE_RESULT") = static_cast<int>(kResult);
  m.attr("MODE_FETCHMANY") = static_cast<int>(kFetchMany);
  m.attr("MODE_FETCHROW_EACH") = static_cast<int>(kFetchRowEach);
}

}  // namespace fa::py::pg
