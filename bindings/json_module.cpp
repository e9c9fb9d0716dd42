// Python bindings for the json component: _native.json_dumps and _native.json_loads.
// Both are plain METH_O CPython functions: this is on every request, and METH_O is the
// cheapest call CPython has.
#include <Python.h>

#include <string>
#include <string_view>

#include "json_decode.h"
#include "json_encode.h"
#include "registry.h"

namespace fa::py {
namespace {

// json_dumps reuses one scratch string; a larger one is given back after the call.
constexpr std::size_t kRetainedScratchBytes = 1 << 20;  // 1 MiB

// json_dumps(obj) -> bytes: the JSON encoding of obj (see json_encode.h for the rules).
PyObject* json_dumps(PyObject*, PyObject* obj) {
  static std::string scratch;
  static bool scratch_busy = false;  // encoding can re-enter through Python code
  if (scratch_busy) {
    std::string local;
    if (!json_encode(obj, local)) return nullptr;
    return PyBytes_FromStringAndSize(local.data(), static_cast<Py_ssize_t>(local.size()));
  }
  scratch_busy = true;
  scratch.clear();
  bool ok = json_encode(obj, scratch);
  PyObject* result =
      ok ? PyBytes_FromStringAndSize(scratch.data(), static_cast<Py_ssize_t>(scratch.size()))
         : nullptr;
  if (scratch.capacity() > kRetainedScratchBytes) std::string().swap(scratch);
  scratch_busy = false;
  return result;
}

// json_dumps_plan(obj, plan) -> bytes | None: obj's JSON as a response-model plan directs,
// None when obj does not fit the plan (fasterapi/_model_json.py).
PyObject* json_dumps_plan(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "json_dumps_plan(obj, plan) takes 2 arguments");
    return nullptr;
  }
  static std::string scratch;
  static bool scratch_busy = false;  // a dict key's __eq__ could call back in, in theory
  std::string local;
  std::string& out = scratch_busy ? local : scratch;
  bool owner = !scratch_busy;
  scratch_busy = true;
  out.clear();
  int rc = json_encode_planned(args[0], args[1], out);
  PyObject* result = nullptr;
  if (rc > 0) {
    result = PyBytes_FromStringAndSize(out.data(), static_cast<Py_ssize_t>(out.size()));
  } else if (rc == 0) {
    result = Py_NewRef(Py_None);
  }
  if (owner) {
    if (scratch.capacity() > kRetainedScratchBytes) std::string().swap(scratch);
    scratch_busy = false;
  }
  return result;
}

// json_loads(data: bytes | bytearray | memoryview | str) -> Any.
PyObject* json_loads(PyObject*, PyObject* data) {
  if (PyBytes_Check(data)) {
    return json_decode_with_fallback(
        std::string_view(PyBytes_AS_STRING(data), static_cast<std::size_t>(PyBytes_GET_SIZE(data))),
        data);
  }
  if (PyUnicode_Check(data)) {
    Py_ssize_t n;
    const char* p = PyUnicode_AsUTF8AndSize(data, &n);
    if (!p) {
      // Lone surrogates have no UTF-8 form; json.loads still accepts such a str.
      PyErr_Clear();
      return json_decode_with_fallback(std::string_view(), data);
    }
    return json_decode_with_fallback(std::string_view(p, static_cast<std::size_t>(n)), data);
  }
  if (PyObject_CheckBuffer(data)) {
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_C_CONTIGUOUS) < 0) return nullptr;
    std::string_view text(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
    // json.loads takes a bytearray but not a memoryview: that falls back on a bytes copy.
    PyObject* result = json_decode_with_fallback(text, PyByteArray_Check(data) ? data : nullptr);
    PyBuffer_Release(&view);
    return result;
  }
  return PyErr_Format(PyExc_TypeError, "the JSON object must be str, bytes or bytearray, not %s",
                      Py_TYPE(data)->tp_name);
}

PyMethodDef g_methods[] = {
    {"json_dumps", json_dumps, METH_O,
     "json_dumps(obj) -> bytes\n\nEncode obj as compact UTF-8 JSON (orjson-style speed)."},
    {"json_dumps_plan",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(json_dumps_plan)), METH_FASTCALL,
     "json_dumps_plan(obj, plan) -> bytes | None\n\nobj's JSON as a response-model plan "
     "directs, or None when obj does not fit the plan."},
    {"json_loads", json_loads, METH_O,
     "json_loads(data: bytes | bytearray | memoryview | str) -> Any\n\nParse JSON text."},
};

}  // namespace

void register_json(nanobind::module_& m) {
  add_methods(m, g_methods);
}

}  // namespace fa::py
