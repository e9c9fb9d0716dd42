// Python bindings for the futures component: fa::future<object> as an asyncio awaitable.
//
// Future wraps a loop-local fa::future holding a Python object; awaiting it creates an asyncio
// future on the running loop and resolves it from the C++ continuation. C++ futures are
// single-threaded: fulfil them on the thread that runs the asyncio loop (with the GIL held).
#include <Python.h>
#include <nanobind/stl/string.h>

#include <exception>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "core/future.h"
#include "core/future_errors.h"
#include "registry.h"

namespace nb = nanobind;

namespace fa::py {
namespace {

// A Python exception instance carried through a C++ future.
struct PyException {
  nb::object exc;
};

// Converts a failed C++ future's exception into a Python exception instance.
nb::object to_python_exception(std::exception_ptr e) {
  auto make = [](PyObject* type, const char* msg) { return nb::borrow(type)(nb::str(msg)); };
  try {
    std::rethrow_exception(std::move(e));
  } catch (const PyException& pe) {
    return pe.exc;
  } catch (const nb::python_error& pe) {
    return nb::borrow(pe.value());
  } catch (const timed_out_error& te) {
    return make(PyExc_TimeoutError, te.what());
  } catch (const std::system_error& se) {
    return nb::borrow(PyExc_OSError)(se.code().value(), nb::str(se.what()));
  } catch (const std::exception& ex) {
    return make(PyExc_RuntimeError, ex.what());
  } catch (...) {
    return make(PyExc_RuntimeError, "unknown C++ exception");
  }
}

// Hands a ready C++ outcome to an asyncio future, unless that was cancelled meanwhile.
void resolve(nb::handle afut, future<nb::object>&& r) {
  if (nb::cast<bool>(afut.attr("done")())) return;
  if (r.failed()) {
    afut.attr("set_exception")(to_python_exception(r.get_exception()));
  } else {
    afut.attr("set_result")(r.get());
  }
}

class NativeFuture {
 public:
  explicit NativeFuture(future<nb::object> f) : f_(std::move(f)) {}

  bool done() const { return f_.available(); }

  // Awaitable protocol: returns the iterator of an asyncio future resolved by this one.
  nb::object await() {
    if (!f_.valid())
      throw std::runtime_error("fasterapi._native.Future: already awaited or chained");
    nb::object loop = nb::module_::import_("asyncio").attr("get_running_loop")();
    nb::object afut = loop.attr("create_future")();
    if (f_.available()) {
      resolve(afut, std::move(f_));  // ready: the await completes without suspending
    } else {
      (void)f_.then_wrapped([afut](future<nb::object>&& r) { resolve(afut, std::move(r)); });
    }
    return afut.attr("__await__")();
  }

  // A C++ continuation calling fn(value); runs at once if this future is ready.
  NativeFuture then(nb::callable fn) {
    if (!f_.valid())
      throw std::runtime_error("fasterapi._native.Future: already awaited or chained");
    return NativeFuture(
        f_.then([fn = std::move(fn)](nb::object v) -> nb::object { return fn(v); }));
  }

 private:
  future<nb::object> f_;
};

class NativePromise {
 public:
  NativeFuture get_future() {
    if (taken_) throw std::runtime_error("fasterapi._native.Promise: future() already called");
    taken_ = true;
    return NativeFuture(p_.get_future());
  }
  void set_result(nb::object v) {
    check_unset("set_result");
    p_.set_value(std::move(v));
  }
  void set_exception(nb::object exc) {
    check_unset("set_exception");
    p_.set_exception(std::make_exception_ptr(PyException{std::move(exc)}));
  }

 private:
  void check_unset(const char* who) {
    if (set_)
      throw std::runtime_error(std::string("fasterapi._native.Promise.") + who + ": already set");
    set_ = true;
  }
  promise<nb::object> p_;
  bool taken_ = false;
  bool set_ = false;
};

}  // namespace

void register_futures(nanobind::module_& m) {
  nb::class_<NativeFuture>(
      m, "Future", "A C++ fa::future holding a Python object; awaitable on any asyncio loop.")
      .def("done", &NativeFuture::done, "True once the value or exception is set.")
      .def("__await__", &NativeFuture::await)
      .def("then", &NativeFuture::then, nb::arg("fn"),
           "Return a Future of fn(value), run as a C++ continuation (at once if ready).");
  nb::class_<NativePromise>(m, "Promise", "The producer side of a Future (a C++ fa::promise).")
      .def(nb::init<>())
      .def("future", &NativePromise::get_future, "Return the Future; callable once.")
      .def("set_result", &NativePromise::set_result, nb::arg("value"))
      .def("set_exception", &NativePromise::set_exception, nb::arg("exc"));
  m.def(
      "ready_future",
      [](nb::object v) { return NativeFuture(make_ready_future<nb::object>(std::move(v))); },
      nb::arg("value"), "Return an already-resolved Future (the allocation-free path).");
}

}  // namespace fa::py
