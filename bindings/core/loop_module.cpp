// fasterapi._native.Loop (py_loop.h): an fa::EventLoop embedded in asyncio, shared by the HTTP
// Server and PostgreSQL channels of one asyncio loop.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <utility>

#include "core/py_loop.h"
#include "registry.h"

namespace nb = nanobind;

namespace fa::py {

LoopBackend loop_backend(const std::string& name) {
  if (name.empty()) return default_loop_backend();
  LoopBackend b;
  if (!parse_loop_backend(name, &b))
    throw nb::value_error(("loop must be 'auto', 'epoll' or 'uring', not '" + name + "'").c_str());
  return b;
}

PyLoop::PyLoop(LoopBackend b)
    : loop_(b), requested_(loop_backend_name(b)), token_(std::make_shared<PyLoop*>(this)) {
  std::weak_ptr<PyLoop*> w = token_;
  runner_ = nb::cpp_function([w] {
    if (auto p = w.lock()) (*p)->run_pending();
  });
}

PyLoop::~PyLoop() {
  token_.reset();
}

void PyLoop::poll() {
  loop_.run_once(0);
  if (PyErr_Occurred()) throw nb::python_error();
}

void PyLoop::at_turn_end(std::function<void()> fn, const nb::object& call_soon) {
  pending_.push_back(std::move(fn));
  if (scheduled_) return;
  scheduled_ = true;
  try {
    call_soon(runner_);
  } catch (nb::python_error& e) {
    e.discard_as_unraisable("fasterapi: scheduling a write");
    std::weak_ptr<PyLoop*> w = token_;
    loop_.defer([w] {
      if (auto p = w.lock()) (*p)->run_pending();
    });
  }
}

void PyLoop::run_pending() {
  scheduled_ = false;
  std::vector<std::function<void()>> fns;
  fns.swap(pending_);
  for (auto& fn : fns) fn();
}

void register_loop(nb::module_& m) {
  nb::class_<PyLoop>(m, "Loop",
                     "An EventLoop embedded in asyncio (its fd registered with add_reader), "
                     "shared by the Server and the PostgreSQL connections of one asyncio loop.")
      .def(
          "__init__",
          [](PyLoop* self, const std::string& backend) {
            new (self) PyLoop(loop_backend(backend));
          },
          nb::arg("backend") = "",
          "backend: 'epoll', 'uring', 'auto', or '' for FASTERAPI_LOOP, else epoll.")
      .def("fileno", &PyLoop::fileno, "An fd that is readable when poll() has work.")
      .def("poll", &PyLoop::poll, "Runs ready I/O and due timers without blocking.")
      .def("next_timer_ms", &PyLoop::next_timer_ms, "Milliseconds until the next timer, or -1.")
      .def_prop_ro("requested", &PyLoop::requested,
                   "The backend asked for, resolved: 'epoll', 'uring' or 'auto'.")
      .def_prop_ro("backend", &PyLoop::backend, "The backend in use: 'epoll' or 'uring'.");
  m.def(
      "loop_backend_name",
      [](const std::string& name) { return loop_backend_name(loop_backend(name)); },
      nb::arg("name"),
      "The backend `name` asks for ('' -> FASTERAPI_LOOP, else 'epoll'); ValueError if unknown.");
}

}  // namespace fa::py
