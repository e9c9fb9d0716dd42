// pg PoolCore: the pool's idle connections and its fast paths in C++ (base class of
// fasterapi.pg.PgPool).
//
// This core owns the idle list (and the held set and waiters list, Python objects the Python pool
// uses in place): PgPool adds and removes connections through _idle_add/_idle_remove/_idle_set.
//
// `await pool.fetchrow(sql, *args)` is one native call: it picks a connection among the idle
// ones (round-robin, preferring one with nothing in flight: queries pipeline on it), finds the
// statement prepared there (the connection's statement cache), queues Bind/Execute/Sync on its
// Core and returns a Query: an awaitable over the channel's future (resolved from C++ when the
// result arrives, pg_channel.cpp). No Python frame runs per query. Whatever the fast path does
// not cover goes to the Python pool (PgPool._run): a timeout (asyncio.wait_for), a statement not
// prepared on the chosen connection yet, no idle connection, a growth or sweep due, another
// asyncio loop. `pool.fetchmany(sql, args)` takes the same path with Core.execute_many: one
// Bind/Execute per argument sequence and one Sync, one future for all the rows; and
// `pool.fetchrow_each(sql, args)` with a Sync per sequence (each run its own query), one future
// for the N first rows.
//
// `async with pool.acquire() as conn` is an Acquire: its __aenter__ checks out an idle connection
// with nothing in flight (_take) and its __aexit__ returns a clean one (_give: no request in
// flight, no transaction open, no listener) to the idle list, each an awaitable that is already
// done; no Python frame runs. The rest goes to the Python pool: waiting for a connection (its
// waiters queue and the acquire timeout), opening one, a health check due, the reset (ROLLBACK,
// UNLISTEN) of a connection returned dirty, closing a broken or expired one.
#include <Python.h>
#include <nanobind/nanobind.h>
#include <structmember.h>
#include <time.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "pg_channel.h"
#include "pg_core.h"
#include "pg_record.h"

namespace nb = nanobind;

namespace fa::py::pg {

namespace {

// The Core's result modes (pg_core.cpp); kModeFetchMany and kModeFetchRowEach queue
// Core.execute_many (one Sync, or one per argument sequence). kModeAsIs marks a Query awaiting
// the Python side's own future: its outcome is returned or raised as it is.
constexpr int kModeFetch = 0, kModeFetchRow = 1, kModeFetchVal = 2, kModeStatus = 3,
              kModeFetchMany = 5, kModeFetchRowEach = 6, kModeAsIs = -1;

PyObject* s_move_to_end;
PyObject* s_result;
PyObject* s_done;
PyObject* s_cancelled;
PyObject* s_exception;
PyObject* s_blocking;
PyObject* s_run;
PyObject* s_script;
PyObject* s_abandon;
PyObject* s_retry_stale;
PyObject* s_each_outcome;
PyObject* s_each_slow;
PyObject* s_timeout;
PyObject* s_column;
PyObject* s_record_class;
PyObject* s_channel;
PyObject* s_core;
PyObject* s_cache;
PyObject* s_conn_closed;
PyObject* s_created_at;
PyObject* s_last_used;
PyObject* s_tx_status;
PyObject* s_listeners;
PyObject* s_tx_depth;
PyObject* s_wake;
PyObject* s_acquire;
PyObject* s_release;
PyObject* s_enter_slow;
PyObject* s_dunder_await;
PyObject* s_idle_tx;  // "I": ReadyForQuery's idle transaction status (RFC-less: PG protocol 55.7)
PyObject* s_name[6];
PyObject* g_record_type;  // fasterapi._native.pg.Record
PyObject* g_get_running_loop;
PyObject* g_zero;  // _asyncio._get_running_loop: the running loop or None

double monotonic_now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Raises the StopIteration that returns v from an awaitable (as a generator's `return v`).
void return_value(PyObject* v) {
  if (v == Py_None) {
    PyErr_SetNone(PyExc_StopIteration);
    return;
  }
  if (PyTuple_Check(v) || PyExceptionInstance_Check(v)) {  // would be read as args: wrap it
    PyObject* e = PyObject_CallOneArg(PyExc_StopIteration, v);
    if (e) {
      PyErr_SetObject(PyExc_StopIteration, e);
      Py_DECREF(e);
    }
    return;
  }
  PyErr_SetObject(PyExc_StopIteration, v);
}

// -- Query: the awaitable of one pooled query ----------------------------------------------------
// Awaiting it yields the channel's future to the task (as the future's own iterator does) and
// returns its result. The rare outcomes call the connection back: the awaiting task cancelled
// (or timed out) before the result came: Connection._abandon (the request is dropped if unsent,
// else cancelled on the server when that is safe); a failure: Connection._retry_stale (a cached
// plan made stale by a schema change is prepared again and the query re-run, once).
struct QueryObj {
  PyObject_HEAD PyObject* fut;
  PyObject* conn;
  PyObject* sql;
  PyObject* args;
  int mode;
  int state;  // 0: not yielded yet, 1: yielded (the task waits on fut), 2: finished
};

PyTypeObject* g_query_type;

void query_dealloc(PyObject* o) {
  auto* q = reinterpret_cast<QueryObj*>(o);
  Py_XDECREF(q->fut);
  Py_XDECREF(q->conn);
  Py_XDECREF(q->sql);
  Py_XDECREF(q->args);
  PyTypeObject* tp = Py_TYPE(o);
  tp->tp_free(o);
  Py_DECREF(tp);
}

PyObject* query_await(PyObject* o) {
  Py_INCREF(o);
  return o;
}

// One step of awaiting q (the send protocol, PEP 590's am_send: an `await` in a coroutine and
// a Task step call it directly): PYGEN_NEXT with the future to yield in *out, PYGEN_RETURN
// with the result in *out (no StopIteration made), PYGEN_ERROR with an exception set.
PySendResult query_step(QueryObj* q, PyObject** out) {
  *out = nullptr;
  for (;;) {
    if (q->state == 0) {
      // asyncio's handshake: a yielded future must say it blocks (Future.__await__ does this).
      if (PyObject_SetAttr(q->fut, s_blocking, Py_True) < 0) return PYGEN_ERROR;
      q->state = 1;
      *out = Py_NewRef(q->fut);
      return PYGEN_NEXT;
    }
    if (q->state != 1) {
      *out = Py_NewRef(Py_None);  // awaited again once finished: None
      return PYGEN_RETURN;
    }
    q->state = 2;
    PyObject* r = PyObject_CallMethodNoArgs(q->fut, s_result);
    if (r && q->mode == kModeFetchRowEach && !PyList_CheckExact(r)) {
      // Some query of the batch failed: its outcomes (a tuple) go to the connection, which
      // re-runs those whose cached plan went stale and raises the first failure
      // (Connection._fetchrow_each_outcome_future); its future is awaited as it is.
      PyObject* again =
          PyObject_CallMethodObjArgs(q->conn, s_each_outcome, q->sql, q->args, r, nullptr);
      Py_DECREF(r);
      if (!again) return PYGEN_ERROR;
      Py_SETREF(q->fut, again);
      q->mode = kModeAsIs;
      q->state = 0;
      continue;
    }
    if (r) {
      *out = r;
      return PYGEN_RETURN;
    }
    if (!PyErr_ExceptionMatches(PyExc_Exception)) return PYGEN_ERROR;  // CancelledError, ...
    // A batch's own failures come as outcomes; a failure of the whole (the connection lost)
    // and the Python side's future are raised as they are.
    if (q->mode == kModeFetchRowEach || q->mode == kModeAsIs) return PYGEN_ERROR;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb) PyException_SetTraceback(v, tb);
    PyObject* mode = PyLong_FromLong(q->mode);
    PyObject* again =
        mode ? PyObject_CallMethodObjArgs(q->conn, s_retry_stale, v, q->sql, q->args, mode, nullptr)
             : nullptr;
    Py_XDECREF(mode);
    if (!again || again == Py_None) {
      if (!again) {  // the hook failed: report the query's own error, chained
        PyObject *t2, *v2, *tb2;
        PyErr_Fetch(&t2, &v2, &tb2);
        Py_XDECREF(t2);
        Py_XDECREF(v2);
        Py_XDECREF(tb2);
      }
      Py_XDECREF(again);
      PyErr_Restore(t, v, tb);
      return PYGEN_ERROR;
    }
    Py_XDECREF(t);
    Py_XDECREF(v);
    Py_XDECREF(tb);
    Py_SETREF(q->fut, again);  // a future (Task) re-running the query: await it instead
    q->state = 0;
  }
}

PySendResult query_am_send(PyObject* o, PyObject* /*value*/, PyObject** out) {
  return query_step(reinterpret_cast<QueryObj*>(o), out);
}

// The iterator protocol's step (a caller without am_send, `yield from`, send()): the result
// comes back as a StopIteration.
PyObject* query_next(PyObject* o) {
  PyObject* out;
  switch (query_step(reinterpret_cast<QueryObj*>(o), &out)) {
    case PYGEN_NEXT:
      return out;
    case PYGEN_RETURN:
      return_value(out);
      Py_DECREF(out);
      return nullptr;
    default:
      return nullptr;
  }
}

PyObject* query_send(PyObject* o, PyObject* /*value*/) {
  return query_next(o);
}

// Whether fut finished with exactly the exception exc (asyncio's Task throws a failed future's
// exception into the awaiting coroutine rather than resuming it). -1: an error.
int failed_with(PyObject* fut, PyObject* exc) {
  PyObject* done = PyObject_CallMethodNoArgs(fut, s_done);
  if (!done) return -1;
  bool is_done = done == Py_True;
  Py_DECREF(done);
  if (!is_done) return 0;
  PyObject* cancelled = PyObject_CallMethodNoArgs(fut, s_cancelled);
  if (!cancelled) return -1;
  bool is_cancelled = cancelled == Py_True;
  Py_DECREF(cancelled);
  if (is_cancelled) return 0;
  PyObject* e = PyObject_CallMethodNoArgs(fut, s_exception);
  if (!e) return -1;
  bool same = e == exc;
  Py_DECREF(e);
  return same ? 1 : 0;
}

// throw(exc) or throw(type, value, traceback): the task resumes us with the future's failure,
// or it was cancelled (or an exception thrown into it) while it waited for the result.
PyObject* query_throw(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
  auto* q = reinterpret_cast<QueryObj*>(o);
  if (nargs < 1 || nargs > 3) {
    PyErr_SetString(PyExc_TypeError, "throw expected 1 to 3 arguments");
    return nullptr;
  }
  PyObject* typ = args[0];
  PyObject* val = nargs > 1 && args[1] != Py_None ? args[1] : nullptr;
  if (q->state == 1) {
    int own = failed_with(q->fut, PyExceptionInstance_Check(typ) ? typ : val);
    if (own < 0) return nullptr;
    if (own) return query_next(o);  // the query's own outcome (maybe re-run: a stale plan)
    q->state = 2;
    PyObject* r = PyObject_CallMethodOneArg(q->conn, s_abandon, q->fut);
    if (!r) return nullptr;
    Py_DECREF(r);
  }
  q->state = 2;
  if (PyExceptionInstance_Check(typ)) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(typ)), typ);
    return nullptr;
  }
  PyObject* tb = nargs > 2 && args[2] != Py_None ? args[2] : nullptr;
  if (!PyExceptionClass_Check(typ)) {
    PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
    return nullptr;
  }
  Py_INCREF(typ);
  Py_XINCREF(val);
  Py_XINCREF(tb);
  PyErr_Restore(typ, val, tb);
  return nullptr;
}

PyObject* query_close(PyObject* o, PyObject* /*unused*/) {
  reinterpret_cast<QueryObj*>(o)->state = 2;
  Py_RETURN_NONE;
}

PyMethodDef query_methods[] = {
    {"send", query_send, METH_O, nullptr},
    {"throw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(query_throw)),
     METH_FASTCALL, nullptr},
    {"close", query_close, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

PyType_Slot query_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(query_dealloc)},
    {Py_am_await, reinterpret_cast<void*>(query_await)},
    {Py_tp_iter, reinterpret_cast<void*>(query_await)},
    {Py_tp_iternext, reinterpret_cast<void*>(query_next)},
    {Py_am_send, reinterpret_cast<void*>(query_am_send)},
    {Py_tp_methods, query_methods},
    {Py_tp_doc, const_cast<char*>("The awaitable result of one pooled query.")},
    {0, nullptr}};

PyType_Spec query_spec = {"fasterapi._native.pg.Query", sizeof(QueryObj), 0, Py_TPFLAGS_DEFAULT,
                          query_slots};

// Steals fut; borrows the rest.
PyObject* make_query(PyObject* fut, PyObject* conn, PyObject* sql, PyObject* args, int mode) {
  auto* q = PyObject_New(QueryObj, g_query_type);
  if (!q) {
    Py_DECREF(fut);
    return nullptr;
  }
  q->fut = fut;
  Py_INCREF(conn);
  q->conn = conn;
  Py_INCREF(sql);
  q->sql = sql;
  Py_INCREF(args);
  q->args = args;
  q->mode = mode;
  q->state = 0;
  return reinterpret_cast<PyObject*>(q);
}

// -- Ready: an awaitable already done (acquire's and release's fast paths) ------------------------
struct ReadyObj {
  PyObject_HEAD PyObject* value;
  bool done;
};

PyTypeObject* g_ready_type;

void ready_dealloc(PyObject* o) {
  Py_XDECREF(reinterpret_cast<ReadyObj*>(o)->value);
  PyTypeObject* tp = Py_TYPE(o);
  tp->tp_free(o);
  Py_DECREF(tp);
}

PySendResult ready_am_send(PyObject* o, PyObject* /*value*/, PyObject** out) {
  auto* r = reinterpret_cast<ReadyObj*>(o);
  *out = Py_NewRef(r->done ? Py_None : r->value);  // exhausted: None
  r->done = true;
  return PYGEN_RETURN;
}

PyObject* ready_next(PyObject* o) {
  auto* r = reinterpret_cast<ReadyObj*>(o);
  if (r->done) return nullptr;  // exhausted: plain StopIteration
  r->done = true;
  return_value(r->value);
  return nullptr;
}

PyObject* ready_send(PyObject* o, PyObject* /*value*/) {
  return ready_next(o);
}

PyObject* ready_close(PyObject* o, PyObject* /*unused*/) {
  reinterpret_cast<ReadyObj*>(o)->done = true;
  Py_RETURN_NONE;
}

PyMethodDef ready_methods[] = {{"send", ready_send, METH_O, nullptr},
                               {"close", ready_close, METH_NOARGS, nullptr},
                               {nullptr, nullptr, 0, nullptr}};

PyType_Slot ready_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(ready_dealloc)},
    {Py_am_await, reinterpret_cast<void*>(query_await)},
    {Py_tp_iter, reinterpret_cast<void*>(query_await)},
    {Py_tp_iternext, reinterpret_cast<void*>(ready_next)},
    {Py_am_send, reinterpret_cast<void*>(ready_am_send)},
    {Py_tp_methods, ready_methods},
    {Py_tp_doc, const_cast<char*>("An awaitable whose value is already there.")},
    {0, nullptr}};

PyType_Spec ready_spec = {"fasterapi._native.pg.Ready", sizeof(ReadyObj), 0, Py_TPFLAGS_DEFAULT,
                          ready_slots};

// Borrows v.
PyObject* make_ready(PyObject* v) {
  auto* r = PyObject_New(ReadyObj, g_ready_type);
  if (!r) return nullptr;
  Py_INCREF(v);
  r->value = v;
  r->done = false;
  return reinterpret_cast<PyObject*>(r);
}

// -- PoolCore ------------------------------------------------------------------------------------
struct Entry {
  PyObject* conn;     // Connection
  PyObject* channel;  // its native Channel
  PyObject* core;     // its native Core
  PyObject* cache;    // its statement cache: OrderedDict[str, Statement | Future]
  double created_at;  // Connection.created_at (time.monotonic())
};

void drop_entry(Entry& e) {
  Py_DECREF(e.conn);
  Py_DECREF(e.channel);
  Py_DECREF(e.core);
  Py_DECREF(e.cache);
}

// Fills e (new references) for a pg Connection; false with an error set if conn is not one.
bool make_entry(PyObject* conn, Entry* e) {
  PyObject* ch = PyObject_GetAttr(conn, s_channel);
  PyObject* core = ch ? PyObject_GetAttr(conn, s_core) : nullptr;
  PyObject* cache = core ? PyObject_GetAttr(conn, s_cache) : nullptr;
  PyObject* created = cache ? PyObject_GetAttr(conn, s_created_at) : nullptr;
  double t = created ? PyFloat_AsDouble(created) : -1.0;
  Py_XDECREF(created);
  if (!created || (t == -1.0 && PyErr_Occurred()) || !is_channel(ch) || !PyDict_Check(cache)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "not a pg Connection");
    Py_XDECREF(ch);
    Py_XDECREF(core);
    Py_XDECREF(cache);
    return false;
  }
  Py_INCREF(conn);
  *e = {conn, ch, core, cache, t};
  return true;
}

struct PoolCoreObj {
  PyObject_HEAD std::vector<Entry>* idle;  // the idle connections (this core is their one owner)
  PyObject* held;     // set[Connection]: checked out by acquire() (PgPool._held, used in place)
  PyObject* waiters;  // list[Future]: acquire()s waiting for a connection (PgPool._waiters)
  PyObject* loop;     // the asyncio loop the connections live on (None before open())
  size_t rr;
  double next_sweep;
  double max_lifetime;               // PgPool.max_lifetime
  double health_check_interval;      // PgPool.health_check_interval
  unsigned long long fast_acquires;  // acquire()s served by _take (PgPool.stats adds them)
  bool can_grow;  // size < max_size and none connecting: a busy pick should grow the pool
  bool enabled;   // no command_timeout (which needs asyncio.wait_for) and not closed
  bool open;      // opened and not closed: acquire/release may take the fast path
};

PyTypeObject* g_pool_type;

void clear_idle(PoolCoreObj* p) {
  std::vector<Entry> old;
  old.swap(*p->idle);
  for (Entry& e : old) drop_entry(e);
}

PyObject* pool_new(PyTypeObject* type, PyObject* /*args*/, PyObject* /*kw*/) {
  auto* p = reinterpret_cast<PoolCoreObj*>(type->tp_alloc(type, 0));
  if (!p) return nullptr;
  p->idle = new std::vector<Entry>();
  p->held = PySet_New(nullptr);
  p->waiters = PyList_New(0);
  if (!p->held || !p->waiters) {
    Py_DECREF(p);
    return nullptr;
  }
  Py_INCREF(Py_None);
  p->loop = Py_None;
  p->rr = 0;
  p->next_sweep = 0;
  p->max_lifetime = 0;
  p->health_check_interval = 0;
  p->fast_acquires = 0;
  p->can_grow = false;
  p->enabled = false;
  p->open = false;
  return reinterpret_cast<PyObject*>(p);
}

int pool_traverse(PyObject* o, visitproc visit, void* arg) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  Py_VISIT(Py_TYPE(o));
  Py_VISIT(p->loop);
  Py_VISIT(p->held);
  Py_VISIT(p->waiters);
  if (p->idle)
    for (Entry& e : *p->idle) {
      Py_VISIT(e.conn);
      Py_VISIT(e.channel);
      Py_VISIT(e.core);
      Py_VISIT(e.cache);
    }
  return 0;
}

int pool_clear(PyObject* o) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  if (p->idle) clear_idle(p);
  Py_CLEAR(p->loop);
  Py_CLEAR(p->held);
  Py_CLEAR(p->waiters);
  return 0;
}

void pool_dealloc(PyObject* o) {
  PyTypeObject* tp = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  pool_clear(o);
  delete reinterpret_cast<PoolCoreObj*>(o)->idle;
  tp->tp_free(o);
  Py_DECREF(tp);
}

// The connection for a pool-level query: round-robin from the last pick, the first one with
// nothing in flight, else the next in turn (the query pipelines on it), avoiding one whose new
// requests wait for a cancel. -1: no idle connection.
Py_ssize_t pick(PoolCoreObj* p) {
  const std::vector<Entry>& idle = *p->idle;
  size_t n = idle.size();
  if (n == 0) return -1;
  size_t start = p->rr = (p->rr + 1) % n;
  size_t best = start;
  if (channel_pending(idle[best].channel) > 0) {
    for (size_t k = 1; k < n; ++k) {
      size_t c = (start + k) % n;
      if (channel_pending(idle[c].channel) == 0) {
        best = c;
        break;
      }
    }
    if (channel_cancelling(idle[best].channel)) {
      for (size_t k = 1; k < n; ++k) {
        size_t c = (start + k) % n;
        if (!channel_cancelling(idle[c].channel)) {
          best = c;
          break;
        }
      }
    }
  }
  return static_cast<Py_ssize_t>(best);
}

// _update(loop, can_grow, next_sweep, enabled, open, max_lifetime, health_check_interval): the
// Python pool's settings after a change of its size, loop, sweep time or state.
PyObject* pool_sync(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  if (nargs != 7) {
    PyErr_SetString(PyExc_TypeError,
                    "_update(loop, can_grow, next_sweep, enabled, open, max_lifetime, "
                    "health_check_interval)");
    return nullptr;
  }
  double next_sweep = PyFloat_AsDouble(args[2]);
  double lifetime = PyFloat_AsDouble(args[5]);
  double hci = PyFloat_AsDouble(args[6]);
  if (PyErr_Occurred()) return nullptr;
  Py_INCREF(args[0]);
  Py_SETREF(p->loop, args[0]);
  p->can_grow = PyObject_IsTrue(args[1]) == 1;
  p->next_sweep = next_sweep;
  p->enabled = PyObject_IsTrue(args[3]) == 1;
  p->open = PyObject_IsTrue(args[4]) == 1;
  p->max_lifetime = lifetime;
  p->health_check_interval = hci;
  Py_RETURN_NONE;
}

// -- the idle list -------------------------------------------------------------------------------
// Index of conn in the idle list, or -1.
Py_ssize_t idle_index(PoolCoreObj* p, PyObject* conn) {
  const std::vector<Entry>& idle = *p->idle;
  for (size_t i = 0; i < idle.size(); ++i)
    if (idle[i].conn == conn) return static_cast<Py_ssize_t>(i);
  return -1;
}

// Removes entry i, its references moved to *out (or dropped when out is null).
void idle_erase(PoolCoreObj* p, size_t i, Entry* out) {
  std::vector<Entry>& idle = *p->idle;
  Entry e = idle[i];
  idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(i));
  if (p->rr >= idle.size()) p->rr = 0;
  if (out)
    *out = e;
  else
    drop_entry(e);
}

// _idle_add(conn): conn appended to the idle list.
PyObject* pool_idle_add(PyObject* o, PyObject* conn) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  Entry e;
  if (!make_entry(conn, &e)) return nullptr;
  p->idle->push_back(e);
  Py_RETURN_NONE;
}

// _idle_remove(conn): whether conn was idle (it is not now).
PyObject* pool_idle_remove(PyObject* o, PyObject* conn) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  Py_ssize_t i = idle_index(p, conn);
  if (i < 0) Py_RETURN_FALSE;
  idle_erase(p, static_cast<size_t>(i), nullptr);
  Py_RETURN_TRUE;
}

// _idle_set(conns): the idle list replaced by conns (a list), in its order.
PyObject* pool_idle_set(PyObject* o, PyObject* conns) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  if (!PyList_Check(conns)) {
    PyErr_SetString(PyExc_TypeError, "_idle_set(conns: list)");
    return nullptr;
  }
  std::vector<Entry> fresh;
  Py_ssize_t n = PyList_GET_SIZE(conns);
  fresh.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    Entry e;
    if (!make_entry(PyList_GET_ITEM(conns, i), &e)) {
      for (Entry& f : fresh) drop_entry(f);
      return nullptr;
    }
    fresh.push_back(e);
  }
  clear_idle(p);
  p->idle->swap(fresh);
  if (p->rr >= p->idle->size()) p->rr = 0;
  Py_RETURN_NONE;
}

// _idle_count(): how many connections are idle.
PyObject* pool_idle_count(PyObject* o, PyObject* /*unused*/) {
  return PyLong_FromSize_t(reinterpret_cast<PoolCoreObj*>(o)->idle->size());
}

PyObject* pool_get_idle(PyObject* o, void* /*closure*/) {
  const std::vector<Entry>& idle = *reinterpret_cast<PoolCoreObj*>(o)->idle;
  PyObject* l = PyList_New(static_cast<Py_ssize_t>(idle.size()));
  if (!l) return nullptr;
  for (size_t i = 0; i < idle.size(); ++i) {
    Py_INCREF(idle[i].conn);
    PyList_SET_ITEM(l, static_cast<Py_ssize_t>(i), idle[i].conn);
  }
  return l;
}

PyObject* pool_get_held(PyObject* o, void* /*closure*/) {
  return Py_NewRef(reinterpret_cast<PoolCoreObj*>(o)->held);
}

PyObject* pool_get_waiters(PyObject* o, void* /*closure*/) {
  return Py_NewRef(reinterpret_cast<PoolCoreObj*>(o)->waiters);
}

PyObject* pool_get_fast_acquires(PyObject* o, void* /*closure*/) {
  return PyLong_FromUnsignedLongLong(reinterpret_cast<PoolCoreObj*>(o)->fast_acquires);
}

// Whether the running asyncio loop is the pool's (-1: an error).
int on_pool_loop(PoolCoreObj* p) {
  PyObject* running = PyObject_CallNoArgs(g_get_running_loop);
  if (!running) return -1;
  Py_DECREF(running);  // only compared: the loop stays alive while it runs us
  return running == p->loop ? 1 : 0;
}

// conn._closed is true (-1: an error).
int conn_closed(PyObject* conn) {
  PyObject* v = PyObject_GetAttr(conn, s_conn_closed);
  if (!v) return -1;
  int r = PyObject_IsTrue(v);
  Py_DECREF(v);
  return r;
}

// The channel's last_used (time.monotonic() of the last request queued); -1 with an error set.
double channel_last_used(PyObject* ch) {
  PyObject* v = PyObject_GetAttr(ch, s_last_used);
  if (!v) return -1.0;
  double t = PyFloat_AsDouble(v);
  Py_DECREF(v);
  return t;
}

// acquire()'s fast path: the last idle connection (as PgPool._acquire chooses) with nothing in
// flight, not ended or closed, within max_lifetime, checked out (moved to the held set). A new
// reference, or nullptr: an error if one is set, else the Python path (PgPool._acquire) has to
// take it: none free, a health check due, another loop, the pool not open.
PyObject* take(PoolCoreObj* p) {
  if (!p->open || p->idle->empty()) return nullptr;
  int same = on_pool_loop(p);
  if (same <= 0) {
    if (same < 0) PyErr_Clear();
    return nullptr;
  }
  double now = monotonic_now();
  std::vector<Entry>& idle = *p->idle;
  for (size_t k = idle.size(); k-- > 0;) {
    PyObject* conn = idle[k].conn;
    PyObject* ch = idle[k].channel;
    if (channel_pending(ch) > 0 || channel_lost(ch)) continue;
    if (now - idle[k].created_at >= p->max_lifetime) continue;
    int closed = conn_closed(conn);
    if (closed < 0) return nullptr;
    if (closed) continue;
    double used = channel_last_used(ch);
    if (used == -1.0 && PyErr_Occurred()) return nullptr;
    if (now - used > p->health_check_interval) return nullptr;  // PgPool._acquire checks it
    // The attribute reads above could run Python code: take conn only if it is still there.
    if (k >= idle.size() || idle[k].conn != conn) return nullptr;
    if (PySet_Add(p->held, conn) < 0) return nullptr;
    Entry out;
    idle_erase(p, k, &out);
    Py_DECREF(out.channel);
    Py_DECREF(out.core);
    Py_DECREF(out.cache);
    ++p->fast_acquires;
    return out.conn;
  }
  return nullptr;
}

// release()'s fast path: conn, checked out from this pool and clean (nothing in flight, no
// transaction open, no listener: PgPool.release's reset would do nothing), back on the idle list
// and the first waiter woken. 1: done; 0: the Python path (PgPool.release) has to take it; -1:
// an error.
int give(PoolCoreObj* p, PyObject* conn) {
  if (!p->open) return 0;
  int held = PySet_Contains(p->held, conn);
  if (held <= 0) return held;
  int same = on_pool_loop(p);
  if (same <= 0) {
    if (same < 0) PyErr_Clear();
    return 0;
  }
  Entry e;
  if (!make_entry(conn, &e)) return -1;
  int ok = -1;
  PyObject* tx = nullptr;
  PyObject* listeners = nullptr;
  PyObject* depth = nullptr;
  do {
    double now = monotonic_now();
    ok = 0;
    if (channel_pending(e.channel) > 0 || channel_lost(e.channel)) break;
    if (now - e.created_at >= p->max_lifetime) break;
    ok = -1;
    int closed = conn_closed(conn);
    if (closed < 0) break;
    ok = 0;
    if (closed) break;
    ok = -1;
    if (!(tx = PyObject_GetAttr(e.core, s_tx_status))) break;
    int idle_tx = PyUnicode_Check(tx) ? PyUnicode_Compare(tx, s_idle_tx) : 1;
    if (idle_tx == -1 && PyErr_Occurred()) break;
    ok = 0;
    if (idle_tx != 0) break;  // in a transaction (or a failed one): ROLLBACK in Python
    ok = -1;
    if (!(listeners = PyObject_GetAttr(conn, s_listeners))) break;
    int has = PyObject_IsTrue(listeners);
    if (has < 0) break;
    ok = 0;
    if (has) break;  // UNLISTEN * in Python
    ok = -1;
    if (!(depth = PyObject_GetAttr(conn, s_tx_depth))) break;
    if (depth != g_zero && PyObject_SetAttr(conn, s_tx_depth, g_zero) < 0) break;
    PyObject* t = PyFloat_FromDouble(now);
    if (!t) break;
    int set = PyObject_SetAttr(e.channel, s_last_used, t);
    Py_DECREF(t);
    if (set < 0 || PySet_Discard(p->held, conn) < 0) break;
    p->idle->push_back(e);
    ok = 1;
  } while (false);
  Py_XDECREF(tx);
  Py_XDECREF(listeners);
  Py_XDECREF(depth);
  if (ok != 1) {
    drop_entry(e);
    return ok;
  }
  if (PyList_GET_SIZE(p->waiters) > 0) {  // PgPool._wake: the first waiter still waiting
    PyObject* r = PyObject_CallMethodNoArgs(reinterpret_cast<PyObject*>(p), s_wake);
    if (!r) return -1;
    Py_DECREF(r);
  }
  return 1;
}

// _give(conn): release()'s fast path; whether it took conn back.
PyObject* pool_give(PyObject* o, PyObject* conn) {
  int r = give(reinterpret_cast<PoolCoreObj*>(o), conn);
  if (r < 0) return nullptr;
  return PyBool_FromLong(r);
}

// -- Acquire: `async with pool.acquire() as conn` and `conn = await pool.acquire()` ---------------
struct AcquireObj {
  PyObject_HEAD PyObject* pool;  // the PgPool
  PyObject* timeout;             // float or None
  PyObject* conn;                // the connection __aenter__ checked out, or None
};

PyTypeObject* g_acquire_type;

void acquire_dealloc(PyObject* o) {
  auto* a = reinterpret_cast<AcquireObj*>(o);
  Py_XDECREF(a->pool);
  Py_XDECREF(a->timeout);
  Py_XDECREF(a->conn);
  PyTypeObject* tp = Py_TYPE(o);
  tp->tp_free(o);
  Py_DECREF(tp);
}

// A fast checkout is allowed: no timeout, or a positive one (PgPool._acquire fails at once when
// the deadline is already reached).
int timeout_allows_take(PyObject* timeout) {
  if (timeout == Py_None) return 1;
  double t = PyFloat_AsDouble(timeout);
  if (t == -1.0 && PyErr_Occurred()) return -1;
  return t > 0 ? 1 : 0;
}

// await pool.acquire(): the connection (the caller releases it).
PyObject* acquire_await(PyObject* o) {
  auto* a = reinterpret_cast<AcquireObj*>(o);
  int allowed = timeout_allows_take(a->timeout);
  if (allowed < 0) return nullptr;
  if (allowed) {
    PyObject* c = take(reinterpret_cast<PoolCoreObj*>(a->pool));
    if (c) {
      PyObject* r = make_ready(c);
      Py_DECREF(c);
      return r;
    }
    if (PyErr_Occurred()) return nullptr;
  }
  PyObject* coro = PyObject_CallMethodOneArg(a->pool, s_acquire, a->timeout);
  if (!coro) return nullptr;
  PyObject* it = PyObject_CallMethodNoArgs(coro, s_dunder_await);
  Py_DECREF(coro);
  return it;
}

PyObject* acquire_aenter(PyObject* o, PyObject* /*unused*/) {
  auto* a = reinterpret_cast<AcquireObj*>(o);
  int allowed = timeout_allows_take(a->timeout);
  if (allowed < 0) return nullptr;
  if (allowed) {
    PyObject* c = take(reinterpret_cast<PoolCoreObj*>(a->pool));
    if (c) {
      Py_SETREF(a->conn, c);
      return make_ready(c);
    }
    if (PyErr_Occurred()) return nullptr;
  }
  return PyObject_CallMethodOneArg(a->pool, s_enter_slow, o);  // sets _conn when it has one
}

PyObject* acquire_aexit(PyObject* o, PyObject* const* /*args*/, Py_ssize_t /*nargs*/) {
  auto* a = reinterpret_cast<AcquireObj*>(o);
  PyObject* conn = a->conn;
  if (!conn || conn == Py_None) return make_ready(Py_None);
  Py_INCREF(Py_None);
  a->conn = Py_None;  // conn's reference is ours now
  int r = give(reinterpret_cast<PoolCoreObj*>(a->pool), conn);
  PyObject* out = r > 0    ? make_ready(Py_None)
                  : r == 0 ? PyObject_CallMethodOneArg(a->pool, s_release, conn)
                           : nullptr;
  Py_DECREF(conn);
  return out;
}

PyMethodDef acquire_methods[] = {
    {"__aenter__", acquire_aenter, METH_NOARGS, nullptr},
    {"__aexit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(acquire_aexit)),
     METH_FASTCALL, nullptr},
    {nullptr, nullptr, 0, nullptr}};

PyMemberDef acquire_members[] = {
    {"_conn", T_OBJECT_EX, offsetof(AcquireObj, conn), 0, nullptr},
    {"_timeout", T_OBJECT_EX, offsetof(AcquireObj, timeout), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

PyType_Slot acquire_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(acquire_dealloc)},
    {Py_am_await, reinterpret_cast<void*>(acquire_await)},
    {Py_tp_methods, acquire_methods},
    {Py_tp_members, acquire_members},
    {Py_tp_doc, const_cast<char*>("async with pool.acquire() as conn, or conn = await "
                                  "pool.acquire().")},
    {0, nullptr}};

PyType_Spec acquire_spec = {"fasterapi._native.pg.Acquire", sizeof(AcquireObj), 0,
                            Py_TPFLAGS_DEFAULT, acquire_slots};

// acquire(*, timeout=None): an Acquire.
PyObject* pool_acquire(PyObject* o, PyObject* const* args, Py_ssize_t nargsf, PyObject* kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  PyObject* timeout = Py_None;
  if (nargs != 0) {
    PyErr_SetString(PyExc_TypeError, "acquire() takes only the keyword argument timeout");
    return nullptr;
  }
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    if (PyUnicode_Compare(name, s_timeout) != 0) {
      PyErr_Format(PyExc_TypeError, "acquire() got an unexpected keyword argument %R", name);
      return nullptr;
    }
    timeout = args[k];
  }
  auto* a = PyObject_New(AcquireObj, g_acquire_type);
  if (!a) return nullptr;
  a->pool = Py_NewRef(o);
  a->timeout = Py_NewRef(timeout);
  a->conn = Py_NewRef(Py_None);
  return reinterpret_cast<PyObject*>(a);
}

// _pick(): the connection _pick chooses for a pool-level query, or None.
PyObject* pool_pick(PyObject* o, PyObject* /*unused*/) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  Py_ssize_t i = pick(p);
  if (i < 0) Py_RETURN_NONE;
  PyObject* c = (*p->idle)[static_cast<size_t>(i)].conn;
  Py_INCREF(c);
  return c;
}

// The fast path: queues the query (args: a sequence) on the connection _pick chooses and sets
// *conn_out and *fut_out (new references) to it and the channel's future. False without an
// error set: the Python path has to take it.
bool fast_send(PoolCoreObj* p, PyObject* sql, PyObject* args, int mode, PyObject** conn_out,
               PyObject** fut_out) {
  if (!p->enabled || p->idle->empty() || !PyUnicode_CheckExact(sql)) return false;
  PyObject* running = PyObject_CallNoArgs(g_get_running_loop);
  if (!running) {
    PyErr_Clear();
    return false;
  }
  Py_DECREF(running);  // only compared: the loop stays alive while it runs us
  if (running != p->loop) return false;
  if (monotonic_now() > p->next_sweep) return false;  // the Python pool sweeps first
  Py_ssize_t i = pick(p);
  if (i < 0) return false;
  const Entry& e = (*p->idle)[static_cast<size_t>(i)];
  if (channel_lost(e.channel)) return false;                        // the Python pool drops it
  if (p->can_grow && channel_pending(e.channel) > 0) return false;  // it grows the pool
  PyObject* st = PyDict_GetItemWithError(e.cache, sql);             // borrowed
  if (!st) {
    PyErr_Clear();
    return false;  // not prepared on this connection yet
  }
  if (!is_statement(st)) return false;  // being prepared (a future)
  Entry ent = e;  // the calls below may run Python code that changes the idle list
  Py_INCREF(ent.conn);
  Py_INCREF(ent.channel);
  Py_INCREF(ent.core);
  Py_INCREF(st);
  bool ok = false;
  PyObject* r = PyObject_CallMethodOneArg(ent.cache, s_move_to_end, sql);  // least recently used
  if (r) {
    Py_DECREF(r);
    try {
      if (mode == kModeFetchMany || mode == kModeFetchRowEach)
        core_execute_many(nb::handle(ent.core), nb::handle(st), nb::handle(args), mode);
      else
        core_execute(nb::handle(ent.core), nb::handle(st), nb::handle(args), mode);
      *fut_out = channel_request(nb::handle(ent.channel)).release().ptr();
      Py_INCREF(ent.conn);
      *conn_out = ent.conn;
      ok = true;
    } catch (nb::python_error& err) {
      err.restore();
    } catch (const std::exception& ex) {
      PyErr_SetString(PyExc_RuntimeError, ex.what());
    }
  }
  Py_DECREF(st);
  Py_DECREF(ent.conn);
  Py_DECREF(ent.channel);
  Py_DECREF(ent.core);
  if (!ok && !PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "pg pool: nothing queued");
  return ok;
}

// The fast path as a Query; nullptr without an error set: take the Python path.
PyObject* fast_query(PoolCoreObj* p, PyObject* sql, PyObject* const* qargs, Py_ssize_t nq,
                     int mode) {
  PyObject* args = PyTuple_New(nq);
  if (!args) return nullptr;
  for (Py_ssize_t k = 0; k < nq; ++k) {
    Py_INCREF(qargs[k]);
    PyTuple_SET_ITEM(args, k, qargs[k]);
  }
  PyObject *conn, *fut;
  PyObject* q = nullptr;
  if (fast_send(p, sql, args, mode, &conn, &fut)) {
    q = make_query(fut, conn, sql, args, mode);
    Py_DECREF(conn);
  }
  Py_DECREF(args);
  return q;
}

// The fast path for a batch (rows: a list or tuple of argument sequences) as a Query; nullptr
// without an error set: take the Python path.
PyObject* fast_batch(PoolCoreObj* p, PyObject* sql, PyObject* rows, int mode) {
  PyObject *conn, *fut;
  if (!fast_send(p, sql, rows, mode, &conn, &fut)) return nullptr;
  PyObject* q = make_query(fut, conn, sql, rows, mode);
  Py_DECREF(conn);
  return q;
}

// fetch/fetchrow/fetchval/execute(query, *args, timeout=None[, column=0]).
PyObject* pool_query(PyObject* o, PyObject* const* args, size_t nargsf, PyObject* kwnames,
                     int mode) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs < 1) {
    PyErr_Format(PyExc_TypeError, "%U() missing the query", s_name[mode]);
    return nullptr;
  }
  bool plain = true;  // no timeout, column 0
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    PyObject* v = args[nargs + k];
    if (PyUnicode_Compare(name, s_timeout) == 0) {
      if (v != Py_None) plain = false;
    } else if (mode == kModeFetchVal && PyUnicode_Compare(name, s_column) == 0) {
      int zero = PyObject_RichCompareBool(v, g_zero, Py_EQ);
      if (zero < 0) return nullptr;
      if (!zero) plain = false;
    } else {
      PyErr_Format(PyExc_TypeError, "%U() got an unexpected keyword argument %R", s_name[mode],
                   name);
      return nullptr;
    }
  }
  if (plain && !(mode == kModeStatus && nargs == 1)) {
    PyObject* q = fast_query(p, args[0], args + 1, nargs - 1, mode);
    if (q || PyErr_Occurred()) return q;
  }
  // The Python path: self._run(name, query, *args, **kw), or a script for execute without args.
  std::vector<PyObject*> call(static_cast<size_t>(nargs + nkw) + 2);
  call[0] = o;
  size_t j = 1;
  PyObject* meth;
  if (mode == kModeStatus && nargs == 1) {
    meth = s_script;
  } else {
    meth = s_run;
    call[j++] = s_name[mode];
  }
  for (Py_ssize_t k = 0; k < nargs + nkw; ++k) call[j++] = args[k];
  size_t npos = j - static_cast<size_t>(nkw);
  return PyObject_VectorcallMethod(meth, call.data(), npos, kwnames);
}

// fetchmany(query, args, *, timeout=None, record_class=None): query run for each argument
// sequence of args as one pipeline (Bind/Execute each, one Sync), all rows in one list. The fast
// path takes it without timeout or record_class (args made a list first: a re-run after a stale
// plan needs them again); else PgPool._run("fetchmany", ...).
PyObject* pool_fetchmany(PyObject* o, PyObject* const* args, Py_ssize_t nargsf, PyObject* kwnames) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  bool plain = nargs == 2;
  for (Py_ssize_t k = 0; k < nkw && plain; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    PyObject* v = args[nargs + k];
    if (PyUnicode_Compare(name, s_timeout) == 0)
      plain = v == Py_None;
    else if (PyUnicode_Compare(name, s_record_class) == 0)
      plain = v == Py_None || v == g_record_type;
    else
      plain = false;  // the Python path raises the TypeError
  }
  if (plain) {
    PyObject* rows = args[1];
    if (PyList_CheckExact(rows) || PyTuple_CheckExact(rows))
      Py_INCREF(rows);
    else if (!(rows = PySequence_List(rows)))
      return nullptr;  // not iterable: TypeError, nothing queued
    PyObject* q = fast_batch(p, args[0], rows, kModeFetchMany);
    if (q || PyErr_Occurred()) {
      Py_DECREF(rows);
      return q;
    }
    // The Python path gets the list: a generator passed in was consumed making it.
    std::vector<PyObject*> call{o, s_name[kModeFetchMany], args[0], rows};
    PyObject* r = PyObject_VectorcallMethod(s_run, call.data(), call.size(), nullptr);
    Py_DECREF(rows);
    return r;
  }
  std::vector<PyObject*> call(static_cast<size_t>(nargs + nkw) + 2);
  call[0] = o;
  call[1] = s_name[kModeFetchMany];
  for (Py_ssize_t k = 0; k < nargs + nkw; ++k) call[static_cast<size_t>(k) + 2] = args[k];
  return PyObject_VectorcallMethod(s_run, call.data(), static_cast<size_t>(nargs) + 2, kwnames);
}

// fetchrow_each(query, args, *, timeout=None): fetchrow for each argument sequence of args,
// each its own query (Bind/Execute/Sync), the rows (or None) in order. The fast path queues the
// whole batch on one connection as one request and awaits one future (args made a list first:
// the outcome of a failure needs them again); else PgPool._fetchrow_each_slow.
PyObject* pool_fetchrow_each(PyObject* o, PyObject* const* args, Py_ssize_t nargsf,
                             PyObject* kwnames) {
  auto* p = reinterpret_cast<PoolCoreObj*>(o);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  bool plain = nargs == 2;
  for (Py_ssize_t k = 0; k < nkw && plain; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    plain = PyUnicode_Compare(name, s_timeout) == 0 && args[nargs + k] == Py_None;
  }
  if (!plain) {  // a timeout (or wrong arguments: the Python path raises the TypeError)
    std::vector<PyObject*> call(static_cast<size_t>(nargs + nkw) + 1);
    call[0] = o;
    for (Py_ssize_t k = 0; k < nargs + nkw; ++k) call[static_cast<size_t>(k) + 1] = args[k];
    return PyObject_VectorcallMethod(s_each_slow, call.data(), static_cast<size_t>(nargs) + 1,
                                     kwnames);
  }
  PyObject* rows = args[1];
  if (PyList_CheckExact(rows))
    Py_INCREF(rows);
  else if (!(rows = PySequence_List(rows)))
    return nullptr;  // not iterable: TypeError, nothing queued
  PyObject* q;
  if (PyList_GET_SIZE(rows) == 0) {  // nothing to run: a new [] (not the caller's list)
    PyObject* empty = PyList_New(0);
    q = empty ? make_ready(empty) : nullptr;
    Py_XDECREF(empty);
  } else {
    q = fast_batch(p, args[0], rows, kModeFetchRowEach);
  }
  if (q || PyErr_Occurred()) {
    Py_DECREF(rows);
    return q;
  }
  std::vector<PyObject*> call{o, args[0], rows};  // the list: a generator was consumed making it
  PyObject* r = PyObject_VectorcallMethod(s_each_slow, call.data(), call.size(), nullptr);
  Py_DECREF(rows);
  return r;
}

#define FA_POOL_QUERY(fn, mode)                                                           \
  PyObject* fn(PyObject* o, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) { \
    return pool_query(o, args, static_cast<size_t>(nargs), kwnames, mode);                \
  }
FA_POOL_QUERY(pool_fetch, kModeFetch)
FA_POOL_QUERY(pool_fetchrow, kModeFetchRow)
FA_POOL_QUERY(pool_fetchval, kModeFetchVal)
FA_POOL_QUERY(pool_execute, kModeStatus)
#undef FA_POOL_QUERY

template <typename F>
PyCFunction fastcall(F f) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

PyMethodDef pool_methods[] = {
    {"fetch", fastcall(pool_fetch), METH_FASTCALL | METH_KEYWORDS,
     "fetch(query, *args, timeout=None): all rows as Records."},
    {"fetchrow", fastcall(pool_fetchrow), METH_FASTCALL | METH_KEYWORDS,
     "fetchrow(query, *args, timeout=None): the first row, or None."},
    {"fetchval", fastcall(pool_fetchval), METH_FASTCALL | METH_KEYWORDS,
     "fetchval(query, *args, column=0, timeout=None): the first column of the first row, or "
     "None."},
    {"execute", fastcall(pool_execute), METH_FASTCALL | METH_KEYWORDS,
     "execute(query, *args, timeout=None): the command's status tag. A script (no args) runs on "
     "a checked-out connection, so a BEGIN in it cannot leak into queries pipelined by others."},
    {"fetchrow_each", fastcall(pool_fetchrow_each), METH_FASTCALL | METH_KEYWORDS,
     "fetchrow_each(query, args, *, timeout=None): fetchrow for each argument sequence in "
     "args, each its own query (a Sync each); the rows (or None) in order."},
    {"fetchmany", fastcall(pool_fetchmany), METH_FASTCALL | METH_KEYWORDS,
     "fetchmany(query, args, *, timeout=None, record_class=None): query run for each argument "
     "sequence in args as one pipeline (one Sync: atomic, as asyncpg's), all rows in one list."},
    {"acquire", fastcall(pool_acquire), METH_FASTCALL | METH_KEYWORDS,
     "acquire(*, timeout=None): check a connection out exclusively (transactions, LISTEN, "
     "COPY): `async with pool.acquire() as conn` or `conn = await pool.acquire()`."},
    {"_update", fastcall(pool_sync), METH_FASTCALL,
     "_update(loop, can_grow, next_sweep, enabled, open, max_lifetime, health_check_interval): "
     "the Python pool's settings after a change."},
    {"_idle_add", pool_idle_add, METH_O, "_idle_add(conn): conn appended to the idle list."},
    {"_idle_remove", pool_idle_remove, METH_O,
     "_idle_remove(conn): whether conn was idle (it is not now)."},
    {"_idle_set", pool_idle_set, METH_O, "_idle_set(conns): the idle list replaced by conns."},
    {"_idle_count", pool_idle_count, METH_NOARGS, "How many connections are idle."},
    {"_give", pool_give, METH_O,
     "_give(conn): release()'s fast path for a clean checked-out connection; whether it took it."},
    {"_pick", pool_pick, METH_NOARGS, "The idle connection a pool-level query goes to, or None."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef pool_getset[] = {
    {"_idle", pool_get_idle, nullptr, "The idle connections (a new list).", nullptr},
    {"_held", pool_get_held, nullptr, "The checked-out connections (a set, used in place).",
     nullptr},
    {"_waiters", pool_get_waiters, nullptr,
     "Futures of acquire()s waiting for a connection (a list, used in place).", nullptr},
    {"_fast_acquires", pool_get_fast_acquires, nullptr, "acquire()s served natively.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot pool_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(pool_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(pool_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(pool_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(pool_clear)},
    {Py_tp_methods, pool_methods},
    {Py_tp_getset, pool_getset},
    {Py_tp_doc, const_cast<char*>("The pooled query fast path (base of fasterapi.pg.PgPool).")},
    {0, nullptr}};

PyType_Spec pool_spec = {"fasterapi._native.pg.PoolCore", sizeof(PoolCoreObj), 0,
                         Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, pool_slots};

PyObject* intern(const char* s) {
  return PyUnicode_InternFromString(s);
}

}  // namespace

void register_pool(nb::module_& m) {
  g_zero = PyLong_FromLong(0);
  s_move_to_end = intern("move_to_end");
  s_result = intern("result");
  s_done = intern("done");
  s_cancelled = intern("cancelled");
  s_exception = intern("exception");
  s_blocking = intern("_asyncio_future_blocking");
  s_run = intern("_run");
  s_script = intern("_execute_script");
  s_abandon = intern("_abandon");
  s_retry_stale = intern("_retry_stale");
  s_each_outcome = intern("_fetchrow_each_outcome_future");
  s_each_slow = intern("_fetchrow_each_slow");
  s_timeout = intern("timeout");
  s_column = intern("column");
  s_name[kModeFetch] = intern("fetch");
  s_name[kModeFetchRow] = intern("fetchrow");
  s_name[kModeFetchVal] = intern("fetchval");
  s_name[kModeStatus] = intern("execute");
  s_name[kModeFetchMany] = intern("fetchmany");
  s_record_class = intern("record_class");
  s_channel = intern("_channel");
  s_core = intern("_core");
  s_cache = intern("_cache");
  s_conn_closed = intern("_closed");
  s_created_at = intern("created_at");
  s_last_used = intern("last_used");
  s_tx_status = intern("tx_status");
  s_listeners = intern("_listeners");
  s_tx_depth = intern("_tx_depth");
  s_wake = intern("_wake");
  s_acquire = intern("_acquire");
  s_release = intern("release");
  s_enter_slow = intern("_enter_slow");
  s_dunder_await = intern("__await__");
  s_idle_tx = intern("I");
  g_record_type = reinterpret_cast<PyObject*>(record_type());  // register_core ran first
  nb::object aio = nb::module_::import_("_asyncio");
  g_get_running_loop = nb::object(aio.attr("_get_running_loop")).release().ptr();
  g_query_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&query_spec));
  if (!g_query_type) throw nb::python_error();
  g_ready_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&ready_spec));
  if (!g_ready_type) throw nb::python_error();
  g_acquire_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&acquire_spec));
  if (!g_acquire_type) throw nb::python_error();
  g_pool_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&pool_spec));
  if (!g_pool_type) throw nb::python_error();
  m.attr("Query") = nb::borrow(reinterpret_cast<PyObject*>(g_query_type));
  m.attr("PoolCore") = nb::borrow(reinterpret_cast<PyObject*>(g_pool_type));
}

}  // namespace fa::py::pg
