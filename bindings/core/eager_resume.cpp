// EagerResume (Python 3.11, fasterapi/_eager311.py): the coroutine an asyncio Task drives for
// an async handler that suspended in its eager first step (eager_spawner.cpp). The Task steps it
// through am_send (PyIter_Send, the send protocol of 3.10+), so a step is no Python frame and a
// returning handler raises no StopIteration:
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
#include "core/eager311.h"

namespace fa::py::eager311 {
namespace {

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

}  // namespace

PyObject* g_current_tasks = nullptr;
PyObject* g_cancelled_error = nullptr;

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

void resume_attach_task(PyObject* resume, PyObject* task) {
  Py_XSETREF(as_resume(resume)->task, Py_NewRef(task));
}

PyTypeObject* resume_type() {
  if (!ResumeType.tp_name) {
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
  }
  return &ResumeType;
}

}  // namespace fa::py::eager311
