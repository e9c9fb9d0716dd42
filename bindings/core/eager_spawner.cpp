// EagerSpawner (Python 3.11's eager start of async handlers, fasterapi/_eager311.py; 3.12+ has
// eager tasks and does not use it), in C because it is on every async request's path:
// EagerSpawner(loop, live, finish, pending, stand_in_type, task_name) is spawn(coro, req, res,
// responder). It runs the handler's coroutine to its first suspension in a fresh context with a
// stand-in as asyncio's current task. A handler that returns there is answered with its value
// (PyIter_Send hands it back without a StopIteration); one that raises raises to the caller.
// One that suspends is handed to an asyncio Task (loop=, context=, name=) over an EagerResume
// (eager_resume.cpp), the Task joins `live`, and spawn returns `pending`.
#include <cstddef>

#include "core/eager311.h"
#include "registry.h"

namespace fa::py {
namespace {

using eager311::g_cancelled_error;
using eager311::g_current_tasks;
using eager311::make_resume;
using eager311::resume_attach_task;

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
  resume_attach_task(resume, task);
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

  add_type(m, *eager311::resume_type(), "EagerResume");

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
