// pg codecs: binary decoders for scalar non-datetime types (PostgreSQL *_send formats).
#include <cstring>
#include <string>

#include "pg/wire.h"
#include "pg_codecs_impl.h"

namespace fa::py::pg {

using fa::pg::read_be;

namespace {
// numeric_send sign words (src/backend/utils/adt/numeric.c).
constexpr uint16_t kNumericPos = 0x0000, kNumericNeg = 0x4000, kNumericNaN = 0xC000,
                   kNumericPinf = 0xD000, kNumericNinf = 0xF000;
constexpr int kNumericDigitWidth = 4;  // each digit word holds 0..9999
}  // namespace

PyObject* decode_bool(const char* p, size_t n) {
  if (n != 1) return bad_data("bool");
  return PyBool_FromLong(p[0] != 0);
}

PyObject* decode_bytea(const char* p, size_t n) { return PyBytes_FromStringAndSize(p, static_cast<Py_ssize_t>(n)); }

PyObject* decode_int2(const char* p, size_t n) {
  if (n != 2) return bad_data("int2");
  return PyLong_FromLong(read_be<int16_t>(p));
}

PyObject* decode_int4(const char* p, size_t n) {
  if (n != 4) return bad_data("int4");
  return PyLong_FromLong(read_be<int32_t>(p));
}

PyObject* decode_int8(const char* p, size_t n) {
  if (n != 8) return bad_data("int8");
  return PyLong_FromLongLong(read_be<int64_t>(p));
}

PyObject* decode_oid(const char* p, size_t n) {
  if (n != 4) return bad_data("oid");
  return PyLong_FromUnsignedLong(read_be<uint32_t>(p));
}

PyObject* decode_float4(const char* p, size_t n) {
  if (n != 4) return bad_data("float4");
  uint32_t u = read_be<uint32_t>(p);
  float f;
  std::memcpy(&f, &u, 4);
  return PyFloat_FromDouble(f);
}

PyObject* decode_float8(const char* p, size_t n) {
  if (n != 8) return bad_data("float8");
  uint64_t u = read_be<uint64_t>(p);
  double d;
  std::memcpy(&d, &u, 8);
  return PyFloat_FromDouble(d);
}

PyObject* decode_json(const char* p, size_t n) {
  PyObject* s = PyUnicode_DecodeUTF8(p, static_cast<Py_ssize_t>(n), nullptr);
  if (!s) return nullptr;
  PyObject* r = PyObject_CallOneArg(g_json_loads, s);
  Py_DECREF(s);
  return r;
}

PyObject* decode_jsonb(const char* p, size_t n) {
  if (n < 1 || p[0] != 1) return bad_data("jsonb version");  // jsonb_send: version byte 1, then text
  return decode_json(p + 1, n - 1);
}

// numeric_send: ndigits, weight, sign, dscale (int16 each), then ndigits base-10000 words.
PyObject* decode_numeric(const char* p, size_t n) {
  if (n < 8) return bad_data("numeric header");
  int16_t ndigits = read_be<int16_t>(p);
  int16_t weight = read_be<int16_t>(p + 2);
  uint16_t sign = read_be<uint16_t>(p + 4);
  int16_t dscale = read_be<int16_t>(p + 6);
  if (ndigits < 0 || dscale < 0 || n != 8 + 2 * static_cast<size_t>(ndigits)) return bad_data("numeric");
  const char* txt = nullptr;
  if (sign == kNumericNaN) txt = "NaN";
  if (sign == kNumericPinf) txt = "Infinity";
  if (sign == kNumericNinf) txt = "-Infinity";
  std::string s;
  if (txt) {
    s = txt;
  } else {
    if (sign != kNumericPos && sign != kNumericNeg) return bad_data("numeric sign");
    auto digit = [&](int i) -> int { return i >= 0 && i < ndigits ? read_be<int16_t>(p + 8 + 2 * i) : 0; };
    if (sign == kNumericNeg) s.push_back('-');
    if (weight < 0) {
      s.push_back('0');
    } else {
      for (int i = 0; i <= weight; ++i) {
        std::string d = std::to_string(digit(i));
        if (i > 0) s.append(kNumericDigitWidth - d.size(), '0');
        s += d;
      }
    }
    if (dscale > 0) {
      s.push_back('.');
      std::string frac;
      for (int i = weight + 1; static_cast<int>(frac.size()) < dscale; ++i) {
        std::string d = std::to_string(digit(i));
        frac.append(kNumericDigitWidth - d.size(), '0');
        frac += d;
      }
      frac.resize(static_cast<size_t>(dscale));
      s += frac;
    }
  }
  PyObject* str = PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
  if (!str) return nullptr;
  PyObject* r = PyObject_CallOneArg(g_decimal, str);
  Py_DECREF(str);
  return r;
}

PyObject* decode_uuid(const char* p, size_t n) {
  if (n != 16) return bad_data("uuid");
  PyObject* b = PyBytes_FromStringAndSize(p, 16);
  if (!b) return nullptr;
  PyObject* r = PyObject_CallFunctionObjArgs(g_uuid, Py_None, b, nullptr);  // UUID(hex=None, bytes=b)
  Py_DECREF(b);
  return r;
}

}  // namespace fa::py::pg
