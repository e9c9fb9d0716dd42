// Python 3.11's eager start of async handlers in C (fasterapi/_eager311.py): what the spawn
// (eager_spawner.cpp) and the coroutine its Tasks drive (eager_resume.cpp) share.
#pragma once

#include <Python.h>

namespace fa::py::eager311 {

extern PyObject* g_current_tasks;    // asyncio.tasks._current_tasks: {loop: task}
extern PyObject* g_cancelled_error;  // asyncio.CancelledError

// A new EagerResume for a handler suspended in its first step, `first` being what that step
// yielded; each argument is referenced, not stolen.
PyObject* make_resume(PyObject* coro, PyObject* first, PyObject* loop, PyObject* stand_in,
                      PyObject* finish, PyObject* live, PyObject* req, PyObject* res,
                      PyObject* responder);
// The Task that drives `resume` (dropped again at the handler's end).
void resume_attach_task(PyObject* resume, PyObject* task);
// The EagerResume type, ready for PyType_Ready.
PyTypeObject* resume_type();

}  // namespace fa::py::eager311
