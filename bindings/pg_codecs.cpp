// pg codecs: the OID tables and the array codec; scalar codecs are in pg_decode.cpp / pg_encode.cpp.
#include "pg_codecs.h"

#include <cstring>
#include <vector>

#include "pg/wire.h"
#include "pg_codecs_impl.h"

namespace fa::py::pg {

using fa::pg::append_be;
using fa::pg::put_be;
using fa::pg::read_be;

PyObject* g_decimal = nullptr;
PyObject* g_uuid = nullptr;
PyObject* g_json_loads = nullptr;
PyObject* g_json_dumps = nullptr;

namespace {

struct ArrayType {
  uint32_t array;
  uint32_t element;
};
// Array OIDs of the element types we have codecs for (pg_type.dat typarray).
constexpr ArrayType kArrays[] = {
    {1000, oid::kBool},   {1001, oid::kBytea},    {1002, oid::kChar},     {1003, oid::kName},
    {1005, oid::kInt2},   {1007, oid::kInt4},     {1009, oid::kText},     {1014, oid::kBpchar},
    {1015, oid::kVarchar}, {1016, oid::kInt8},    {1021, oid::kFloat4},   {1022, oid::kFloat8},
    {1028, oid::kOid},    {1115, oid::kTimestamp}, {1182, oid::kDate},    {1183, oid::kTime},
    {1185, oid::kTimestamptz}, {1187, oid::kInterval}, {1231, oid::kNumeric}, {1270, oid::kTimetz},
    {2951, oid::kUuid},   {199, oid::kJson},      {3807, oid::kJsonb},
};

constexpr int32_t kMaxArrayDims = 6;  // PostgreSQL's MAXDIM

// Reads one dimension's elements recursively; p advances over the element data.
PyObject* read_dim(const char*& p, const char* end, const int32_t* dims, int32_t ndim, int32_t d, Decoder dec) {
  PyObject* list = PyList_New(dims[d]);
  if (!list) return nullptr;
  for (int32_t i = 0; i < dims[d]; ++i) {
    PyObject* item;
    if (d + 1 < ndim) {
      item = read_dim(p, end, dims, ndim, d + 1, dec);
    } else {
      if (end - p < 4) { Py_DECREF(list); return bad_data("array element header"); }
      int32_t len = read_be<int32_t>(p);
      p += 4;
      if (len < 0) {
        Py_INCREF(Py_None);
        item = Py_None;
      } else {
        if (end - p < len) { Py_DECREF(list); return bad_data("array element"); }
        item = dec(p, static_cast<size_t>(len));
        p += len;
      }
    }
    if (!item) { Py_DECREF(list); return nullptr; }
    PyList_SET_ITEM(list, i, item);
  }
  return list;
}

// Binary array (array_recv): ndim, flags, element oid, (size, lower bound) per dim, elements.
PyObject* decode_array(const char* p, size_t n) {
  const char* end = p + n;
  if (n < 12) return bad_data("array header");
  int32_t ndim = read_be<int32_t>(p);
  uint32_t elem = read_be<uint32_t>(p + 8);
  p += 12;
  if (ndim == 0) return PyList_New(0);
  if (ndim < 0 || ndim > kMaxArrayDims || end - p < 8 * ndim) return bad_data("array dimensions");
  int32_t dims[kMaxArrayDims];
  for (int32_t d = 0; d < ndim; ++d) {
    dims[d] = read_be<int32_t>(p);
    if (dims[d] < 0) return bad_data("array dimension size");
    p += 8;
  }
  Decoder dec = binary_decoder(elem);
  if (!dec) dec = decode_text;  // only reached for element types whose binary form is text-like
  return read_dim(p, end, dims, ndim, 0, dec);
}

bool is_seq(PyObject* v) { return PyList_Check(v) || PyTuple_Check(v); }

// Walks the first element of each nesting level to find the dimensions.
bool array_dims(PyObject* v, std::vector<int32_t>& dims) {
  while (is_seq(v)) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
    dims.push_back(static_cast<int32_t>(n));
    if (dims.size() > kMaxArrayDims) {
      PyErr_SetString(PyExc_ValueError, "array has more than 6 dimensions");
      return false;
    }
    if (n == 0) break;
    v = PySequence_Fast_GET_ITEM(v, 0);
  }
  return true;
}

// The innermost level of an int4 or int8 array whose items are all exact ints in range
// (ids for `= ANY($1)`, the columns of an unnest() batch): written into one resize of out, no
// per-item encoder call. False, out unchanged, when any item is not (None, an int subclass, a
// value out of range): the general loop then encodes them and reports the error.
bool write_int_elems(PyObject* v, Py_ssize_t n, uint32_t elem, std::string& out) {
  const bool wide = elem == oid::kInt8;
  const size_t width = wide ? 8 : 4;
  const size_t start = out.size();
  out.resize(start + static_cast<size_t>(n) * (4 + width));
  char* p = out.data() + start;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(v, i);
    int overflow = 0;
    long long x = PyLong_CheckExact(item) ? PyLong_AsLongLongAndOverflow(item, &overflow) : 0;
    if (!PyLong_CheckExact(item) || overflow || (x == -1 && PyErr_Occurred()) ||
        (!wide && (x < INT32_MIN || x > INT32_MAX))) {
      PyErr_Clear();
      out.resize(start);
      return false;
    }
    const uint32_t len = static_cast<uint32_t>(width);
    for (size_t b = 0; b < 4; ++b) p[3 - b] = static_cast<char>(len >> (8 * b));
    const uint64_t u = static_cast<uint64_t>(x);
    for (size_t b = 0; b < width; ++b) p[4 + width - 1 - b] = static_cast<char>(u >> (8 * b));
    p += 4 + width;
  }
  return true;
}

bool write_elems(PyObject* v, const std::vector<int32_t>& dims, size_t d, uint32_t elem, Encoder enc,
                 std::string& out, bool& has_null) {
  if (!is_seq(v) || PySequence_Fast_GET_SIZE(v) != dims[d]) {
    PyErr_SetString(PyExc_ValueError, "multi-dimensional arrays must be rectangular (equal-length sub-lists)");
    return false;
  }
  if (d + 1 == dims.size() && (elem == oid::kInt4 || elem == oid::kInt8) &&
      write_int_elems(v, dims[d], elem, out))
    return true;
  for (Py_ssize_t i = 0; i < dims[d]; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(v, i);
    if (d + 1 < dims.size()) {
      if (!write_elems(item, dims, d + 1, elem, enc, out, has_null)) return false;
    } else if (item == Py_None) {
      has_null = true;
      append_be<int32_t>(out, -1);
    } else {
      size_t pos = out.size();
      append_be<int32_t>(out, 0);
      if (!enc(item, elem, out)) return false;
      put_be<int32_t>(out, pos, static_cast<int32_t>(out.size() - pos - 4));
    }
  }
  return true;
}

bool encode_array(PyObject* v, uint32_t array_oid, std::string& out) {
  if (!is_seq(v)) {
    PyErr_Format(PyExc_TypeError, "expected a list or tuple for an array parameter, got %.100s",
                 Py_TYPE(v)->tp_name);
    return false;
  }
  uint32_t elem = array_element_oid(array_oid);
  Encoder enc = binary_encoder(elem);
  std::vector<int32_t> dims;
  if (!array_dims(v, dims)) return false;
  if (!dims.empty() && dims.back() == 0) dims.clear();  // empty array: ndim 0
  size_t start = out.size();
  append_be<int32_t>(out, static_cast<int32_t>(dims.size()));
  size_t flags_pos = out.size();
  append_be<int32_t>(out, 0);
  append_be<uint32_t>(out, elem);
  for (int32_t d : dims) {
    append_be<int32_t>(out, d);
    append_be<int32_t>(out, 1);  // lower bound
  }
  if (dims.empty()) return true;
  bool has_null = false;
  if (!write_elems(v, dims, 0, elem, enc, out, has_null)) {
    out.resize(start);
    return false;
  }
  if (has_null) put_be<int32_t>(out, flags_pos, 1);
  return true;
}

}  // namespace

PyObject* bad_data(const char* what) {
  PyErr_Format(PyExc_ValueError, "malformed binary value from server: %s", what);
  return nullptr;
}

uint32_t array_element_oid(uint32_t array_oid) {
  for (const auto& a : kArrays)
    if (a.array == array_oid) return a.element;
  return 0;
}

PyObject* decode_text(const char* p, size_t n) {
  return PyUnicode_DecodeUTF8(p, static_cast<Py_ssize_t>(n), nullptr);
}

Decoder binary_decoder(uint32_t o) {
  switch (o) {
    case oid::kBool: return decode_bool;
    case oid::kBytea: return decode_bytea;
    case oid::kChar: case oid::kName: case oid::kText: case oid::kXml: case oid::kUnknown:
    case oid::kBpchar: case oid::kVarchar: return decode_text;
    case oid::kInt2: return decode_int2;
    case oid::kInt4: return decode_int4;
    case oid::kInt8: return decode_int8;
    case oid::kOid: return decode_oid;
    case oid::kFloat4: return decode_float4;
    case oid::kFloat8: return decode_float8;
    case oid::kJson: return decode_json;
    case oid::kJsonb: return decode_jsonb;
    case oid::kNumeric: return decode_numeric;
    case oid::kUuid: return decode_uuid;
    case oid::kDate: return decode_date;
    case oid::kTime: return decode_time;
    case oid::kTimetz: return decode_timetz;
    case oid::kTimestamp: return decode_timestamp;
    case oid::kTimestamptz: return decode_timestamptz;
    case oid::kInterval: return decode_interval;
    default: return array_element_oid(o) ? decode_array : nullptr;
  }
}

Encoder binary_encoder(uint32_t o) {
  switch (o) {
    case oid::kBool: return encode_bool;
    case oid::kBytea: return encode_bytea;
    case oid::kChar: case oid::kName: case oid::kText: case oid::kXml: case oid::kUnknown:
    case oid::kBpchar: case oid::kVarchar: return encode_text;
    case oid::kInt2: case oid::kInt4: case oid::kInt8: case oid::kOid: return encode_int;
    case oid::kFloat4: case oid::kFloat8: return encode_float;
    case oid::kJson: case oid::kJsonb: return encode_json;
    case oid::kNumeric: return encode_numeric;
    case oid::kUuid: return encode_uuid;
    case oid::kDate: return encode_date;
    case oid::kTime: return encode_time;
    case oid::kTimetz: return encode_timetz;
    case oid::kTimestamp: case oid::kTimestamptz: return encode_timestamp;
    case oid::kInterval: return encode_interval;
    default: return array_element_oid(o) ? encode_array : nullptr;
  }
}

bool codecs_init() {
  if (g_decimal) return true;
  auto attr = [](const char* mod, const char* name) -> PyObject* {
    PyObject* m = PyImport_ImportModule(mod);
    if (!m) return nullptr;
    PyObject* a = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return a;
  };
  g_decimal = attr("decimal", "Decimal");
  g_uuid = attr("uuid", "UUID");
  g_json_loads = attr("json", "loads");
  g_json_dumps = attr("json", "dumps");
  return g_decimal && g_uuid && g_json_loads && g_json_dumps && datetime_init();
}

}  // namespace fa::py::pg
