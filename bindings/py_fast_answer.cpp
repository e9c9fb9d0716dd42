#include "py_fast_answer.h"

#include <nanobind/nanobind.h>

#include <exception>

#include "json_encode.h"
#include "py_responder.h"

namespace nb = nanobind;

namespace fa::py {

namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kText = "text/plain; charset=utf-8";
constexpr std::string_view kOctets = "application/octet-stream";

struct Names {
  PyObject* status_code = PyUnicode_InternFromString("status_code");
  PyObject* raw_headers = PyUnicode_InternFromString("raw_headers");
  PyObject* media_type = PyUnicode_InternFromString("media_type");
  PyObject* background = PyUnicode_InternFromString("background");
  PyObject* content_type = PyUnicode_InternFromString("content_type");
};

const Names& names() {
  static const Names n;
  return n;
}

// fasterapi._jsonio.JSONBody: a response model's body, already JSON (pydantic's dump_json),
// sent as it is. nullptr if it cannot be imported (then no value is one).
PyTypeObject* json_body_type() {
  static PyObject* type = [] {
    PyObject* mod = PyImport_ImportModule("fasterapi._jsonio");
    PyObject* t = mod ? PyObject_GetAttrString(mod, "JSONBody") : nullptr;
    Py_XDECREF(mod);
    if (!t) PyErr_Clear();
    return t;
  }();
  return reinterpret_cast<PyTypeObject*>(type);
}

// Owned reference for this file's early returns.
struct Ref {
  PyObject* p;
  explicit Ref(PyObject* o) : p(o) {}
  ~Ref() { Py_XDECREF(p); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
};

// The content-type header value of a `res` with a media_type, from Response.content_type()
// itself (the one place that adds a text type's charset) into `out`; false when render() must
// take it: content_type() raised (render() raises the same), or CR, LF or NUL in the value
// (render() refuses those with its ValueError).
bool media_content_type(PyObject* res, std::string& out) {
  Ref value(PyObject_CallMethodNoArgs(res, names().content_type));
  if (!value.p || !PyBytes_Check(value.p)) {
    PyErr_Clear();
    return false;
  }
  std::string_view v(PyBytes_AS_STRING(value.p), static_cast<size_t>(PyBytes_GET_SIZE(value.p)));
  if (v.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return false;
  out.assign(v);
  return true;
}

}  // namespace

FastAnswer fast_answer(PyObject* result, PyObject* res, AnswerBuffers& buf,
                       http::ResponseHead& head, std::string_view& body) {
  enum class Kind { kJsonValue, kStr, kBytes, kNone } kind;
  std::string_view ctype;  // by the value's type, as render()'s defaults
  if (PyDict_CheckExact(result) || PyList_CheckExact(result)) {
    kind = Kind::kJsonValue;
    ctype = kJson;
  } else if (PyUnicode_CheckExact(result)) {
    kind = Kind::kStr;
    ctype = kText;
  } else if (PyBytes_CheckExact(result)) {
    kind = Kind::kBytes;
    ctype = kOctets;
  } else if (json_body_type() && Py_TYPE(result) == json_body_type()) {
    kind = Kind::kBytes;  // JSON bytes, sent as they are
    ctype = kJson;
  } else if (result == Py_None) {
    kind = Kind::kNone;  // empty body, and no content type but one in raw_headers
  } else {
    return FastAnswer::kNotFast;
  }
  Ref media(PyObject_GetAttr(res, names().media_type));
  if (!media.p) {
    PyErr_Clear();
    return FastAnswer::kNotFast;
  }
  if (media.p != Py_None) {
    if (!media_content_type(res, buf.content_type)) return FastAnswer::kNotFast;
    if (kind != Kind::kNone) ctype = buf.content_type;
  }
  Ref background(PyObject_GetAttr(res, names().background));
  if (!background.p) {
    PyErr_Clear();
  } else if (background.p != Py_None) {
    return FastAnswer::kNotFast;  // render() schedules res.background after the response
  }
  Ref status_obj(PyObject_GetAttr(res, names().status_code));
  if (!status_obj.p) return FastAnswer::kFailed;
  long status = PyLong_AsLong(status_obj.p);
  if (status == -1 && PyErr_Occurred()) return FastAnswer::kFailed;
  if (status < 100 || status > 999) {
    PyErr_Format(PyExc_ValueError, "invalid status code %ld", status);
    return FastAnswer::kFailed;
  }
  Ref raw(PyObject_GetAttr(res, names().raw_headers));
  if (!raw.p) return FastAnswer::kFailed;
  buf.headers.clear();
  buf.raw_content_type.clear();
  if (raw.p != Py_None) {
    try {
      format_header_lines(raw.p, buf.headers, true, &buf.raw_content_type);
    } catch (nb::python_error& e) {
      e.restore();
      return FastAnswer::kFailed;
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
      return FastAnswer::kFailed;
    }
  }
  // A content-type in raw_headers comes after render()'s own, and the last one is sent.
  if (!buf.raw_content_type.empty()) ctype = buf.raw_content_type;
  switch (kind) {
    case Kind::kJsonValue:
      buf.body.clear();
      if (!json_encode(result, buf.body)) return FastAnswer::kFailed;
      body = buf.body;
      break;
    case Kind::kStr: {
      Py_ssize_t n = 0;
      const char* s = PyUnicode_AsUTF8AndSize(result, &n);
      if (!s) return FastAnswer::kFailed;
      body = std::string_view(s, static_cast<size_t>(n));
      break;
    }
    case Kind::kBytes:
      body = std::string_view(PyBytes_AS_STRING(result),
                              static_cast<size_t>(PyBytes_GET_SIZE(result)));
      break;
    case Kind::kNone:
      body = {};
      break;
  }
  head = http::ResponseHead{static_cast<int>(status), ctype, buf.headers};
  return FastAnswer::kReady;
}

}  // namespace fa::py
