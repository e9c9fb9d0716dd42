// pg codecs: binary encoders for scalar non-datetime types (PostgreSQL *_recv formats).
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "pg/wire.h"
#include "pg_codecs_impl.h"

namespace fa::py::pg {

using fa::pg::append_be;

namespace {
constexpr uint16_t kNumericPos = 0x0000, kNumericNeg = 0x4000, kNumericNaN = 0xC000,
                   kNumericPinf = 0xD000, kNumericNinf = 0xF000;

bool type_error(const char* want, PyObject* v) {
  PyErr_Format(PyExc_TypeError, "expected %s for a PostgreSQL %s parameter, got %.100s", want, want,
               Py_TYPE(v)->tp_name);
  return false;
}

bool append_utf8(PyObject* s, std::string& out) {
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (!p) return false;
  out.append(p, static_cast<size_t>(n));
  return true;
}

// Parses a plain decimal string ("-12.340", "NaN", "Infinity") into numeric_recv's format.
bool numeric_from_string(std::string_view s, std::string& out) {
  auto header = [&](int16_t nd, int16_t w, uint16_t sign, int16_t dscale) {
    append_be<int16_t>(out, nd);
    append_be<int16_t>(out, w);
    append_be<uint16_t>(out, sign);
    append_be<int16_t>(out, dscale);
  };
  if (s == "NaN" || s == "sNaN" || s == "-NaN" || s == "-sNaN") { header(0, 0, kNumericNaN, 0); return true; }
  if (s == "Infinity") { header(0, 0, kNumericPinf, 0); return true; }
  if (s == "-Infinity") { header(0, 0, kNumericNinf, 0); return true; }
  bool neg = !s.empty() && s[0] == '-';
  if (neg || (!s.empty() && s[0] == '+')) s.remove_prefix(1);
  size_t dot = s.find('.');
  std::string ip(s.substr(0, dot)), fp(dot == std::string_view::npos ? "" : s.substr(dot + 1));
  for (char c : ip + fp)
    if (c < '0' || c > '9') {
      PyErr_Format(PyExc_ValueError, "invalid numeric value %.100s", std::string(s).c_str());
      return false;
    }
  int16_t dscale = static_cast<int16_t>(fp.size());
  ip.insert(0, (4 - ip.size() % 4) % 4, '0');
  fp.append((4 - fp.size() % 4) % 4, '0');
  std::string all = ip + fp;
  std::vector<int16_t> digits;
  for (size_t i = 0; i < all.size(); i += 4) digits.push_back(static_cast<int16_t>(std::stoi(all.substr(i, 4))));
  int weight = static_cast<int>(ip.size() / 4) - 1;
  size_t first = 0;
  while (first < digits.size() && digits[first] == 0) { ++first; --weight; }
  size_t last = digits.size();
  while (last > first && digits[last - 1] == 0) --last;
  if (first == last) weight = 0;
  header(static_cast<int16_t>(last - first), static_cast<int16_t>(weight), neg ? kNumericNeg : kNumericPos,
         dscale);
  for (size_t i = first; i < last; ++i) append_be<int16_t>(out, digits[i]);
  return true;
}
}  // namespace

bool encode_bool(PyObject* v, uint32_t, std::string& out) {
  if (!PyBool_Check(v)) return type_error("bool", v);
  out.push_back(v == Py_True ? 1 : 0);
  return true;
}

bool encode_bytea(PyObject* v, uint32_t, std::string& out) {
  Py_buffer view;
  if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0) {
    PyErr_Clear();
    return type_error("bytes", v);
  }
  out.append(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
  PyBuffer_Release(&view);
  return true;
}

// Text types take str; other objects are sent as str(v) (the server parses them as text).
bool encode_text(PyObject* v, uint32_t, std::string& out) {
  if (PyUnicode_Check(v)) return append_utf8(v, out);
  if (PyBytes_Check(v)) return type_error("str", v);
  PyObject* s = PyObject_Str(v);
  if (!s) return false;
  bool ok = append_utf8(s, out);
  Py_DECREF(s);
  return ok;
}

bool encode_int(PyObject* v, uint32_t o, std::string& out) {
  if (!PyLong_Check(v)) return type_error("int", v);
  int overflow = 0;
  long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
  if (x == -1 && PyErr_Occurred()) return false;
  bool fits = !overflow;
  if (o == oid::kInt2) fits = fits && x >= INT16_MIN && x <= INT16_MAX;
  if (o == oid::kInt4) fits = fits && x >= INT32_MIN && x <= INT32_MAX;
  if (o == oid::kOid) fits = fits && x >= 0 && x <= UINT32_MAX;
  if (!fits) {
    PyErr_Format(PyExc_OverflowError, "value %R out of range for PostgreSQL %s", v,
                 o == oid::kInt2 ? "int2" : o == oid::kInt4 ? "int4" : o == oid::kOid ? "oid" : "int8");
    return false;
  }
  if (o == oid::kInt2) append_be<int16_t>(out, static_cast<int16_t>(x));
  else if (o == oid::kInt4) append_be<int32_t>(out, static_cast<int32_t>(x));
  else if (o == oid::kOid) append_be<uint32_t>(out, static_cast<uint32_t>(x));
  else append_be<int64_t>(out, x);
  return true;
}

bool encode_float(PyObject* v, uint32_t o, std::string& out) {
  if (!PyFloat_Check(v) && !PyLong_Check(v)) return type_error("float", v);
  double d = PyFloat_AsDouble(v);
  if (d == -1.0 && PyErr_Occurred()) return false;
  if (o == oid::kFloat4) {
    float f = static_cast<float>(d);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    append_be<uint32_t>(out, u);
  } else {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    append_be<uint64_t>(out, u);
  }
  return true;
}

// json/jsonb parameters are Python objects serialised with json.dumps (a str becomes a JSON string).
bool encode_json(PyObject* v, uint32_t o, std::string& out) {
  PyObject* s = PyObject_CallOneArg(g_json_dumps, v);
  if (!s) return false;
  if (o == oid::kJsonb) out.push_back(1);  // jsonb_recv version byte
  bool ok = append_utf8(s, out);
  Py_DECREF(s);
  return ok;
}

bool encode_numeric(PyObject* v, uint32_t, std::string& out) {
  PyObject* s = nullptr;
  if (PyLong_Check(v) || PyUnicode_Check(v)) {
    s = PyObject_Str(v);
  } else if (PyFloat_Check(v)) {
    PyObject* r = PyObject_Repr(v);  // shortest round-trip form, then through Decimal for 'f'
    if (!r) return false;
    PyObject* d = PyObject_CallOneArg(g_decimal, r);
    Py_DECREF(r);
    if (!d) return false;
    PyObject* spec = PyUnicode_FromString("f");
    s = PyObject_Format(d, spec);
    Py_DECREF(spec);
    Py_DECREF(d);
  } else if (PyObject_IsInstance(v, g_decimal) == 1) {
    PyObject* spec = PyUnicode_FromString("f");
    s = PyObject_Format(v, spec);
    Py_DECREF(spec);
  } else {
    return type_error("Decimal", v);
  }
  if (!s) return false;
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  bool ok = p && numeric_from_string(std::string_view(p, static_cast<size_t>(n)), out);
  Py_DECREF(s);
  return ok;
}

bool encode_uuid(PyObject* v, uint32_t, std::string& out) {
  PyObject* u = nullptr;
  if (PyUnicode_Check(v)) {
    u = PyObject_CallOneArg(g_uuid, v);
  } else if (PyObject_IsInstance(v, g_uuid) == 1) {
    Py_INCREF(v);
    u = v;
  } else {
    return type_error("UUID", v);
  }
  if (!u) return false;
  PyObject* b = PyObject_GetAttrString(u, "bytes");
  Py_DECREF(u);
  if (!b) return false;
  bool ok = PyBytes_Check(b) && PyBytes_GET_SIZE(b) == 16;
  if (ok) out.append(PyBytes_AS_STRING(b), 16);
  Py_DECREF(b);
  return ok;
}

}  // namespace fa::py::pg
