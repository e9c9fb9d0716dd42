// Eager start of async handlers on Python 3.11 (fasterapi/_eager311.py; 3.12+ has eager
// tasks and does not use this file's objects), in C because it is on every async request's
// path:
//
// EagerSpawner(loop, live, finish, pending, stand_in_type, task_name): spawn(coro, req, res,
// responder) runs the handler's coroutine to its first suspension in a fresh context with a
// stand-in as asyncio's current task. A handler that returns there is answered with its value
// (PyIter_Send hands it back without a StopIteration); one that raises raises to the caller.
// One that suspends is handed to an asyncio Task (loop=, context=, name=) over an EagerResume,
// the Task joins `live`, and spawn returns `pending`.
//
// EagerResume: the coroutine that Task drives. The Task steps it through am_send (PyIter_Send,
// the send protocol of 3.10+), so a step is no Python frame and a returning handler raises no
// StopIteration:
//   - the first step yields the future the handler was waiting on when it suspended (a bare
//     yield, None, asks for one loop pass: the Task's first step is that pass, so the handler
//     resumes at once);
//   - each step swaps the stand-in task in as asyncio's current task (so the handler sees one
//     task throughout, asyncio.timeout() and anyio rely on it) and back;
//   - the handler's end is answered inside its last step: finish(result, exc, req, res,
//     responder) runs, the Task leaves `live`, the links to the Task and the stand-in are
//     dropped (no cycle left: the request's objects go by reference counting), and the Task
//     ends with None, or re-raises a cancellation or a BaseException that is not an Exception
//     (KeyboardInterrupt, SystemExit) for the loop to see.
#include <Python.h>

#include <cstddef>

#include "registry.h"

namespace fa::py {
namespace {

PyObject* g_current_tasks = nullptr;    // asyncio.tasks._current_tasks: {loop: task}
PyObject* g_cancelled_error = nullptr;  // asyncio.CancelledError

struct ResumeObject {
  PyObject_HEAD PyObject* coro;
  PyObject* first;  // the first step's yield; nullptr once taken
  PyObject* loop;
  PyObject* stand_in;
  PyObject* task;
  PyObject* live;
  PyObject* finish;
  PyObject* req;
  PyObject* res;
  PyObject* responder;
};

ResumeObject* as_resume(PyObject* o) {
  return reinterpret_cast<ResumeObject*>(o);
}

// Runs step() with the stand-in as the loop's current task, then puts the Task back; an
// exception step() left pending survives the swap. False (an exception pending) when the swap
// itself failed, step() then not run or its exception replaced.
template <typename Step>
bool with_stand_in(ResumeObject* self, Step&& step) {
  PyObject* task = PyDict_GetItemWithError(g_current_tasks, self->loop);
  if (!task) {
    if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, self->loop);
    return false;
  }
  Py_INCREF(task);
  if (PyDict_SetItem(g_current_tasks, self->loop, self->stand_in ? self->stand_in : Py_None) < 0) {
    Py_DECREF(task);
    return false;
  }
  step();
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  int rc = PyDict_SetItem(g_current_tasks, self->loop, task);
  Py_DECREF(task);
  if (rc < 0) {
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return false;
  }
  PyErr_Restore(type, value, tb);
  return true;
}

// The handler ended with `result` (exc null) or with the pending exception (result null).
// Returns 1 when the Task should end with None (answered by finish), 0 when the pending
// exception must end it instead, -1 on an error of finish itself (pending).
int end(ResumeObject* self, PyObject* result) {
  PyObject* exc = nullptr;
  if (!result) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value) PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    exc = value;
  }
  if (self->task && PySet_Discard(self->live, self->task) < 0) {
    Py_XDECREF(exc);
    return -1;
  }
  Py_CLEAR(self->task);
  Py_CLEAR(self->stand_in);
  PyObject* args[] = {result ? result : Py_None, exc ? exc : Py_None, self->req, self->res,
                      self->responder};
  PyObject* done = PyObject_Vectorcall(self->finish, args, 5, nullptr);
  if (!done) {
    Py_XDECREF(exc);
    return -1;
  }
  Py_DECREF(done);
  if (!exc) return 1;
  if (PyErr_GivenExceptionMatches(exc, PyExc_Exception) &&
      !PyErr_GivenExceptionMatches(exc, g_cancelled_error)) {
    Py_DECREF(exc);
    return 1;
  }
  PyErr_Restore(Py_NewRef(reinterpret_cast<PyObject*>(Py_TYPE(exc))), exc,
                PyException_GetTraceback(exc));
  return 0;
}

PySendResult resume_am_send(PyObject* o, PyObject* arg, PyObject** out) {
  ResumeObject* self = as_resume(o);
  *out = nullptr;
  if (PyObject* first = self->first) {
    self->first = nullptr;
    if (first != Py_None) {
      *out = first;  // the reference moves to the Task
      return PYGEN_NEXT;
    }
    Py_DECREF(first);
  }
  PyObject* result = nullptr;
  PySendResult status = PYGEN_ERROR;
  if (!with_stand_in(self, [&] { status = PyIter_Send(self->coro, arg, &result); })) {
    Py_XDECREF(result);
    return PYGEN_ERROR;
  }
  if (status == PYGEN_NEXT) {
    *out = result;
    return PYGEN_NEXT;
  }
  int ended = end(self, status == PYGEN_RETURN ? result : nullptr);
  Py_XDECREF(result);
  if (ended != 1) return PYGEN_ERROR;
  *out = Py_NewRef(Py_None);
  return PYGEN_RETURN;
}

// send(value) and __next__ for callers that use the iterator protocol.
PyObject* resume_send(PyObject* o, PyObject* value) {
  PyObject* out = nullptr;
  PySendResult status = resume_am_send(o, value, &out);
  if (status == PYGEN_NEXT) return out;
  if (status == PYGEN_RETURN) {
    Py_DECREF(out);
    PyErr_SetNone(PyExc_StopIteration);
  }
  return nullptr;
}

PyObject* resume_next(PyObject* o) {
  PyObject* out = nullptr;
  PySendResult status = resume_am_send(o, Py_None, &out);
  if (status == PYGEN_NEXT) return out;
  Py_XDECREF(out);
  return nullptr;  // ended with None: StopIteration implied, or the pending exception
}

// throw(...): cancellation and errors thrown into the handler by its Task.
PyObject* resume_throw(PyObject* o, PyObject* args) {
  ResumeObject* self = as_resume(o);
  Py_CLEAR(self->first);
  PyObject* result = nullptr;
  bool swapped = with_stand_in(self, [&] {
    if (PyObject* method = PyObject_GetAttrString(self->coro, "throw")) {
      result = PyObject_Call(method, args, nullptr);
      Py_DECREF(method);
    }
  });
  if (!swapped) {
    Py_XDECREF(result);
    return nullptr;
  }
  if (result) return result;
  int ended;
  if (PyErr_ExceptionMatches(PyExc_StopIteration)) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject* returned = value ? PyObject_GetAttrString(value, "value") : Py_NewRef(Py_None);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    if (!returned) return nullptr;
    ended = end(self, returned);
    Py_DECREF(returned);
  } else {
    ended = end(self, nullptr);
  }
  if (ended == 1) PyErr_SetNone(PyExc_StopIteration);
  return nullptr;
}

PyObject* resume_close(PyObject* o, PyObject*) {
  return PyObject_CallMethod(as_resume(o)->coro, "close", nullptr);
}

PyObject* resume_self(PyObject* o) {
  return Py_NewRef(o);
}
PyObject* resume_self_method(PyObject* o, PyObject*) {
  return Py_NewRef(o);
}

int resume_traverse(PyObject* o, visitproc visit, void* arg) {
  ResumeObject* self = as_resume(o);
  Py_VISIT(self->coro);
  Py_VISIT(self->first);
  Py_VISIT(self->loop);
  Py_VISIT(self->stand_in);
  Py_VISIT(self->task);
  Py_VISIT(self->live);
  Py_VISIT(self->finish);
  Py_VISIT(self->req);
  Py_VISIT(self->res);
  Py_VISIT(self->responder);
  return 0;
}

int resume_clear(PyObject* o) {
  ResumeObject* self = as_resume(o);
  Py_CLEAR(self->coro);
  Py_CLEAR(self->first);
  Py_CLEAR(self->loop);
  Py_CLEAR(self->stand_in);
  Py_CLEAR(self->task);
  Py_CLEAR(self->live);
  Py_CLEAR(self->finish);
  Py_CLEAR(self->req);
  Py_CLEAR(self->res);
  Py_CLEAR(self->responder);
  return 0;
}

void resume_dealloc(PyObject* o) {
  PyObject_GC_UnTrack(o);
  resume_clear(o);
  Py_TYPE(o)->tp_free(o);
}

PyObject* resume_get_task(PyObject* o, void*) {
  PyObject* task = as_resume(o)->task;
  return Py_NewRef(task ? task : Py_None);
}

int resume_set_task(PyObject* o, PyObject* value, void*) {
  Py_XSETREF(as_resume(o)->task, value == Py_None ? nullptr : Py_XNewRef(value));
  return 0;
}

PyGetSetDef resume_getset[] = {{"task", resume_get_task, resume_set_task,
                                "The Task driving the handler (None once ended).", nullptr},
                               {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMethodDef resume_methods[] = {
    {"send", resume_send, METH_O, "send(value): the handler's next step."},
    {"throw", resume_throw, METH_VARARGS, "throw(exc): raise exc inside the handler."},
    {"close", resume_close, METH_NOARGS, "close(): close the handler's coroutine."},
    {"__await__", resume_self_method, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

PyAsyncMethods resume_async = {resume_self, nullptr, nullptr, resume_am_send};

PyTypeObject ResumeType = {PyVarObject_HEAD_INIT(nullptr, 0)};

// A new EagerResume; each argument is referenced, not stolen.
PyObject* make_resume(PyObject* coro, PyObject* first, PyObject* loop, PyObject* stand_in,
                      PyObject* finish, PyObject* live, PyObject* req, PyObject* res,
                      PyObject* responder) {
  auto* self = PyObject_GC_New(ResumeObject, &ResumeType);
  if (!self) return nullptr;
  self->coro = Py_NewRef(coro);
  self->first = Py_NewRef(first);
  self->loop = Py_NewRef(loop);
  self->stand_in = Py_NewRef(stand_in);
  self->task = nullptr;
  self->live = Py_NewRef(live);
  self->finish = Py_NewRef(finish);
  self->req = Py_NewRef(req);
  self->res = Py_NewRef(res);
  self->responder = Py_NewRef(responder);
  PyObject_GC_Track(self);
  return reinterpret_cast<PyObject*>(self);
}

// -- EagerSpawner ---------------------------------------------------------------------------

PyObject* g_task_type = nullptr;         // asyncio.Task
PyObject* g_get_running_loop = nullptr;  // asyncio.get_running_loop
PyObject* g_task_kwnames = nullptr;      // ("loop", "context", "name")
PyObject* s_coro = nullptr;              // "_coro"
PyObject* s_task = nullptr;              // "task"
PyObject* s_cancels = nullptr;           // "_cancels"
PyObject* s_cancel = nullptr;            // "cancel"

struct SpawnerObject {
  PyObject_HEAD PyObject* loop;  // None: the running loop at each call
  PyObject* live;
  PyObject* finish;
  PyObject* pending;
  PyObject* stand_in_type;
  PyObject* task_name;
  vectorcallfunc vectorcall;
};

SpawnerObject* as_spawner(PyObject* o) {
  return reinterpret_cast<SpawnerObject*>(o);
}

// The handler's first step: coro.send(None) in ctx with stand_in as the loop's current task (the
// task current before, if any, is put back after). Its outcome as PyIter_Send gives it.
PySendResult first_step(PyObject* coro, PyObject* ctx, PyObject* loop, PyObject* stand_in,
                        PyObject** result) {
  *result = nullptr;
  PyObject* outer = PyDict_GetItemWithError(g_current_tasks, loop);
  if (!outer && PyErr_Occurred()) return PYGEN_ERROR;
  Py_XINCREF(outer);
  if (PyDict_SetItem(g_current_tasks, loop, stand_in) < 0) {
    Py_XDECREF(outer);
    return PYGEN_ERROR;
  }
  PySendResult status = PYGEN_ERROR;
  if (PyContext_Enter(ctx) == 0) {
    status = PyIter_Send(coro, Py_None, result);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    bool restored = PyContext_Exit(ctx) == 0;
    restored = (outer ? PyDict_SetItem(g_current_tasks, loop, outer)
                      : PyDict_DelItem(g_current_tasks, loop)) == 0 &&
               restored;
    if (restored) {
      PyErr_Restore(type, value, tb);
    } else {  // the swap back failed: that error wins
      Py_XDECREF(type);
      Py_XDECREF(value);
      Py_XDECREF(tb);
      Py_CLEAR(*result);
      status = PYGEN_ERROR;
    }
  } else if (outer) {
    PyDict_SetItem(g_current_tasks, loop, outer);  // the Enter error stays the one reported
  } else {
    PyDict_DelItem(g_current_tasks, loop);
  }
  Py_XDECREF(outer);
  return status;
}

// The suspended handler handed to a Task over an EagerResume; `pending`, or nullptr on error.
PyObject* hand_to_task(SpawnerObject* self, PyObject* coro, PyObject* first, PyObject* loop,
                       PyObject* ctx, PyObject* stand_in, PyObject* const* rest) {
  PyObject* resume =
      make_resume(coro, first, loop, stand_in, self->finish, self->live, rest[0], rest[1], rest[2]);
  if (!resume) return nullptr;
  // Task(), not loop.create_task (a Python-level wrapper in uvloop), with a fixed name: 3.11
  // formats "Task-N" per Task otherwise.
  PyObject* targs[] = {resume, loop, ctx, self->task_name};
  PyObject* task = PyObject_Vectorcall(g_task_type, targs, 1, g_task_kwnames);
  if (!task) {
    Py_DECREF(resume);
    return nullptr;
  }
  as_resume(resume)->task = Py_NewRef(task);
  Py_DECREF(resume);
  PyObject* out = nullptr;
  if (PyObject_SetAttr(stand_in, s_task, task) == 0 && PySet_Add(self->live, task) == 0) {
    // cancel() called on the stand-in during the eager step reaches the Task now
    PyObject* cancels = PyObject_GetAttr(stand_in, s_cancels);
    int cancelled = cancels ? PyObject_IsTrue(cancels) : -1;
    Py_XDECREF(cancels);
    PyObject* r = cancelled > 0 ? PyObject_CallMethodNoArgs(task, s_cancel) : nullptr;
    if (cancelled == 0 || r) out = Py_NewRef(self->pending);
    Py_XDECREF(r);
  }
  Py_DECREF(task);
  return out;
}

// spawn(coro, req, res, responder)
PyObject* spawner_call(PyObject* o, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  SpawnerObject* self = as_spawner(o);
  if (PyVectorcall_NARGS(nargsf) != 4 || kwnames) {
    PyErr_SetString(PyExc_TypeError, "spawn(coro, req, res, responder)");
    return nullptr;
  }
  PyObject* coro = args[0];
  PyObject* loop =
      self->loop != Py_None ? Py_NewRef(self->loop) : PyObject_CallNoArgs(g_get_running_loop);
  if (!loop) return nullptr;
  PyObject* out = nullptr;
  PyObject* ctx = PyContext_CopyCurrent();
  PyObject* stand_in = ctx ? PyObject_CallNoArgs(self->stand_in_type) : nullptr;
  if (stand_in && PyObject_SetAttr(stand_in, s_coro, coro) == 0) {
    PyObject* result = nullptr;
    PySendResult status = first_step(coro, ctx, loop, stand_in, &result);
    if (status == PYGEN_RETURN) {
      out = result;  // finished without suspending: its value, answered at once
    } else if (status == PYGEN_NEXT) {
      out = hand_to_task(self, coro, result, loop, ctx, stand_in, args + 1);
      Py_DECREF(result);
    }
  }
  Py_XDECREF(stand_in);
  Py_XDECREF(ctx);
  Py_DECREF(loop);
  return out;
}

PyObject* spawner_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  PyObject *loop, *live, *finish, *pending, *stand_in_type, *task_name;
  static const char* names[] = {"loop",          "live",      "finish", "pending",
                                "stand_in_type", "task_name", nullptr};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!OOOU", const_cast<char**>(names), &loop,
                                   &PySet_Type, &live, &finish, &pending, &stand_in_type,
                                   &task_name))
    return nullptr;
  if (!g_task_type) {
    PyErr_SetString(PyExc_RuntimeError, "EagerSpawner: eager_setup() was not called");
    return nullptr;
  }
  auto* self = reinterpret_cast<SpawnerObject*>(type->tp_alloc(type, 0));
  if (!self) return nullptr;
  self->loop = Py_NewRef(loop);
  self->live = Py_NewRef(live);
  self->finish = Py_NewRef(finish);
  self->pending = Py_NewRef(pending);
  self->stand_in_type = Py_NewRef(stand_in_type);
  self->task_name = Py_NewRef(task_name);
  self->vectorcall = spawner_call;
  return reinterpret_cast<PyObject*>(self);
}

int spawner_traverse(PyObject* o, visitproc visit, void* arg) {
  SpawnerObject* self = as_spawner(o);
  Py_VISIT(self->loop);
  Py_VISIT(self->live);
  Py_VISIT(self->finish);
  Py_VISIT(self->pending);
  Py_VISIT(self->stand_in_type);
  Py_VISIT(self->task_name);
  return 0;
}

int spawner_clear(PyObject* o) {
  SpawnerObject* self = as_spawner(o);
  Py_CLEAR(self->loop);
  Py_CLEAR(self->live);
  Py_CLEAR(self->finish);
  Py_CLEAR(self->pending);
  Py_CLEAR(self->stand_in_type);
  Py_CLEAR(self->task_name);
  return 0;
}

void spawner_dealloc(PyObject* o) {
  PyObject_GC_UnTrack(o);
  spawner_clear(o);
  Py_TYPE(o)->tp_free(o);
}

PyTypeObject SpawnerType = {PyVarObject_HEAD_INIT(nullptr, 0)};

// eager_setup(current_tasks, CancelledError, Task, get_running_loop): asyncio's table of
// current tasks, its CancelledError, Task and get_running_loop, once at import of
// fasterapi._eager311.
PyObject* eager_setup(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4 || !PyDict_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError,
                    "eager_setup(current_tasks: dict, CancelledError, Task, get_running_loop)");
    return nullptr;
  }
  Py_XSETREF(g_current_tasks, Py_NewRef(args[0]));
  Py_XSETREF(g_cancelled_error, Py_NewRef(args[1]));
  Py_XSETREF(g_task_type, Py_NewRef(args[2]));
  Py_XSETREF(g_get_running_loop, Py_NewRef(args[3]));
  Py_RETURN_NONE;
}

PyMethodDef module_methods[] = {
    {"eager_setup", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(eager_setup)),
     METH_FASTCALL, "eager_setup(current_tasks, CancelledError, Task, get_running_loop)"},
    {nullptr, nullptr, 0, nullptr}};

void add_type(nanobind::module_& m, PyTypeObject& type, const char* name) {
  if (PyType_Ready(&type) < 0) throw nanobind::python_error();
  Py_INCREF(&type);
  if (PyModule_AddObject(m.ptr(), name, reinterpret_cast<PyObject*>(&type)) < 0) {
    Py_DECREF(&type);
    throw nanobind::python_error();
  }
}

}  // namespace

void register_eager(nanobind::module_& m) {
  s_coro = PyUnicode_InternFromString("_coro");
  s_task = PyUnicode_InternFromString("task");
  s_cancels = PyUnicode_InternFromString("_cancels");
  s_cancel = PyUnicode_InternFromString("cancel");
  g_task_kwnames = Py_BuildValue("(sss)", "loop", "context", "name");
  if (!s_coro || !s_task || !s_cancels || !s_cancel || !g_task_kwnames)
    throw nanobind::python_error();

  ResumeType.tp_name = "fasterapi._native.EagerResume";
  ResumeType.tp_basicsize = sizeof(ResumeObject);
  ResumeType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
  ResumeType.tp_doc = "A suspended async handler's coroutine, as its Task drives it.";
  ResumeType.tp_dealloc = resume_dealloc;
  ResumeType.tp_traverse = resume_traverse;
  ResumeType.tp_clear = resume_clear;
  ResumeType.tp_iter = resume_self;
  ResumeType.tp_iternext = resume_next;
  ResumeType.tp_as_async = &resume_async;
  ResumeType.tp_methods = resume_methods;
  ResumeType.tp_getset = resume_getset;
  add_type(m, ResumeType, "EagerResume");

  SpawnerType.tp_name = "fasterapi._native.EagerSpawner";
  SpawnerType.tp_basicsize = sizeof(SpawnerObject);
  SpawnerType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  SpawnerType.tp_doc =
      "EagerSpawner(loop, live, finish, pending, stand_in_type, task_name): "
      "spawn(coro, req, res, responder) for async handlers on Python 3.11.";
  SpawnerType.tp_new = spawner_new;
  SpawnerType.tp_dealloc = spawner_dealloc;
  SpawnerType.tp_traverse = spawner_traverse;
  SpawnerType.tp_clear = spawner_clear;
  SpawnerType.tp_call = PyVectorcall_Call;
  SpawnerType.tp_vectorcall_offset = offsetof(SpawnerObject, vectorcall);
  add_type(m, SpawnerType, "EagerSpawner");

  add_methods(m, std::span<PyMethodDef>(module_methods, 1));
}

}  // namespace fa::py
