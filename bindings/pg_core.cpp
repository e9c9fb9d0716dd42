// pg Core: runs fa::pg::Protocol for one connection; requests are queued FIFO and answered in order.
#include "pg_core.h"

#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <deque>
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

enum class OpKind { kStartup, kPrepare, kExecute, kExecMany, kSimple, kCopyOut, kCopyIn, kClose };
// Result modes of kExecute / kSimple.
enum Mode : int { kFetch = 0, kFetchRow = 1, kFetchVal = 2, kStatus = 3, kResult = 4 };

struct Op {
  OpKind kind;
  int mode = kStatus;
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

  // Parse + Describe + Sync; the result is the Statement (or an exception).
  nb::object prepare(std::string name, std::string sql) {
    auto* w = &proto_.writer();
    w->parse(name, sql, {});
    w->describe_statement(name);
    w->sync();
    Statement fresh;
    fresh.name = name;
    fresh.sql = sql;
    nb::object st = nb::cast(std::move(fresh));
    Op& op = push(OpKind::kPrepare);
    op.stmt_obj = st;
    op.stmt = nb::inst_ptr<Statement>(st);
    return st;
  }

  // Bind + Execute + Sync for a prepared statement; result according to mode.
  void execute(nb::handle stmt_obj, nb::handle args, int mode) {
    Statement* st = nb::inst_ptr<Statement>(stmt_obj);
    std::string& out = proto_.out();
    size_t mark = out.size();
    if (!bind(*st, args, mark)) throw nb::python_error();
    proto_.writer().execute("", 0);
    proto_.writer().sync();
    Op& op = push(OpKind::kExecute);
    op.mode = mode;
    op.stmt_obj = nb::borrow(stmt_obj);
    op.stmt = st;
    if (mode == kFetch || mode == kResult) op.rows = nb::list();
  }

  // One Bind + Execute per argument tuple, one Sync; the result is None (or the first error).
  void execute_many(nb::handle stmt_obj, nb::iterable arg_rows) {
    Statement* st = nb::inst_ptr<Statement>(stmt_obj);
    std::string& out = proto_.out();
    size_t mark = out.size();
    for (nb::handle args : arg_rows) {
      if (!bind(*st, args, mark)) throw nb::python_error();
      proto_.writer().execute("", 0);
    }
    proto_.writer().sync();
    Op& op = push(OpKind::kExecMany);
    op.mode = kStatus;
    op.stmt_obj = nb::borrow(stmt_obj);
    op.stmt = st;
  }

  // Simple Query (text results, several statements allowed); result: status tag or rows.
  void simple_query(const std::string& sql, int mode) {
    proto_.writer().query(sql);
    Op& op = push(OpKind::kSimple);
    op.mode = mode;
    if (mode == kFetch || mode == kResult) op.rows = nb::list();
  }

  // COPY ... TO STDOUT; data goes to sink(bytes) in batches; the result is the status tag.
  void copy_out(const std::string& sql, nb::object sink) {
    proto_.writer().query(sql);
    Op& op = push(OpKind::kCopyOut);
    op.sink = std::move(sink);
  }

  // COPY ... FROM STDIN with the data chunks (bytes-like) written at once; result: status tag.
  // If the server rejects the COPY, the data that follows is dropped by the server (§55.2.6).
  void copy_in(const std::string& sql, nb::iterable chunks) {
    auto& w = proto_.writer();
    w.query(sql);
    for (nb::handle c : chunks) {
      Py_buffer view;
      if (PyObject_GetBuffer(c.ptr(), &view, PyBUF_SIMPLE) < 0) throw nb::python_error();
      std::string_view data(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
      while (!data.empty()) {
        size_t n = std::min(data.size(), kCopyChunkBytes);
        w.copy_data(data.substr(0, n));
        data.remove_prefix(n);
      }
      PyBuffer_Release(&view);
    }
    w.copy_done();
    push(OpKind::kCopyIn);
  }

  // COPY ... FROM STDIN (FORMAT binary) of records encoded with the columns of shape_stmt's result.
  void copy_in_records(const std::string& sql, nb::handle shape_stmt, nb::iterable records) {
    Statement* st = nb::inst_ptr<Statement>(shape_stmt);
    auto& w = proto_.writer();
    std::string& out = proto_.out();
    size_t mark = out.size();
    w.query(sql);
    std::string buf("PGCOPY\n\xff\r\n\0", 11);  // binary COPY signature (COPY docs, "File Formats")
    fa::pg::append_be<int32_t>(buf, 0);            // flags
    fa::pg::append_be<int32_t>(buf, 0);            // header extension length
    size_t ncols = st->columns.oids.size();
    for (nb::handle rec : records) {
      PyObject* seq = PySequence_Fast(rec.ptr(), "copy_records_to_table: each record must be a sequence");
      if (!seq) { out.resize(mark); throw nb::python_error(); }
      if (static_cast<size_t>(PySequence_Fast_GET_SIZE(seq)) != ncols) {
        Py_DECREF(seq);
        out.resize(mark);
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
          out.resize(mark);
          throw nb::type_error("copy_records_to_table: no binary codec for a column type");
        }
        size_t pos = buf.size();
        fa::pg::append_be<int32_t>(buf, 0);
        if (!enc(v, o, buf)) { Py_DECREF(seq); out.resize(mark); throw nb::python_error(); }
        fa::pg::put_be<int32_t>(buf, pos, static_cast<int32_t>(buf.size() - pos - 4));
      }
      Py_DECREF(seq);
      if (buf.size() >= kCopyChunkBytes) { w.copy_data(buf); buf.clear(); }
    }
    fa::pg::append_be<int16_t>(buf, -1);  // file trailer
    w.copy_data(buf);
    w.copy_done();
    push(OpKind::kCopyIn);
  }

  // Close a named statement (frees it on the server); result None.
  void close_statement(const std::string& name) {
    proto_.writer().close_statement(name);
    proto_.writer().sync();
    push(OpKind::kClose);
  }

  void terminate() { proto_.writer().terminate(); }

  // Feeds received bytes; returns the results of the requests that completed, in request order.
  nb::list feed(nb::bytes data) {
    proto_.feed(std::string_view(data.c_str(), data.size()));
    nb::list done;
    for (;;) {
      fa::pg::Event e = proto_.next();
      switch (e.kind) {
        case EventKind::kNeedMore: return done;
        case EventKind::kProtocolError:
          broken_ = true;
          if (!ops_.empty() && ops_.front().error.is_valid()) {
            done.append(ops_.front().error);
            ops_.pop_front();
          }
          return done;
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
        return done;
      }
      Op& op = ops_.front();
      if (on_event(op, e)) {
        done.append(result(op));
        ops_.pop_front();
      }
    }
  }

  // Drops every pending request (connection lost); returns each one's server error or None.
  nb::list abort() {
    nb::list out;
    for (Op& op : ops_) out.append(op.error.is_valid() ? op.error : nb::none());
    ops_.clear();
    broken_ = true;
    return out;
  }

  std::string error() const {
    if (unexpected_) return "unexpected message from server with no request pending";
    return proto_.error();
  }

  size_t pending() const { return ops_.size(); }
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
  Op& push(OpKind k) {
    ops_.emplace_back();
    ops_.back().kind = k;
    return ops_.back();
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
      case EventKind::kReady: return true;
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
        if (op.kind != OpKind::kCopyIn) {  // COPY FROM STDIN through query(): refuse it (§55.2.6)
          proto_.writer().copy_fail("use copy_in / copy_to_table for COPY FROM STDIN");
        }
        return false;
      default: return false;  // ParseComplete, BindComplete, NoData, EmptyQuery, CopyOutResponse...
    }
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
};

}  // namespace

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
      .def(nb::init<std::string, std::string, std::string, std::vector<std::pair<std::string, std::string>>>(),
           nb::arg("user"), nb::arg("password"), nb::arg("database"), nb::arg("options"))
      .def("start", &Core::start)
      .def("take_out", &Core::take_out, "Bytes to send (and clears them).")
      .def_prop_ro("has_out", &Core::has_out)
      .def("prepare", &Core::prepare, nb::arg("name"), nb::arg("sql"))
      .def("execute", &Core::execute, nb::arg("stmt"), nb::arg("args"), nb::arg("mode"))
      .def("execute_many", &Core::execute_many, nb::arg("stmt"), nb::arg("args_iter"))
      .def("simple_query", &Core::simple_query, nb::arg("sql"), nb::arg("mode"))
      .def("copy_out", &Core::copy_out, nb::arg("sql"), nb::arg("sink"))
      .def("copy_in", &Core::copy_in, nb::arg("sql"), nb::arg("chunks"))
      .def("copy_in_records", &Core::copy_in_records, nb::arg("sql"), nb::arg("shape_stmt"), nb::arg("records"))
      .def("close_statement", &Core::close_statement, nb::arg("name"))
      .def("terminate", &Core::terminate)
      .def("feed", &Core::feed, nb::arg("data"), "Feeds bytes; returns results of completed requests in order.")
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
      .def("set_type_codec", &Core::set_type_codec, nb::arg("oid"), nb::arg("encoder"), nb::arg("decoder"));

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
}

}  // namespace fa::py::pg
