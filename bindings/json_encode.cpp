// JSON encoder of Python objects (see json_encode.h). Builtins are dispatched on exact type
// first; str, int and float are written without temporary Python objects.
// nanobind builds the extension with -Os; this file is the hot path, so it asks for -O3.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include "json_encode.h"

// clang-format off
#include <datetime.h>
// clang-format on

#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>

#include "json/double_format.h"
#include "json/int_format.h"
#include "json/output_buffer.h"
#include "json/string_escape.h"

namespace fa::py {
namespace {

using fa::json::OutputBuffer;

// Types outside the builtins, found in sys.modules when first needed: a module that was never
// imported cannot have produced an instance, so nothing is imported on the encoder's behalf.
struct KnownTypes {
  bool datetime_ready = false;
  PyObject* uuid_type = nullptr;         // uuid.UUID
  PyObject* decimal_type = nullptr;      // decimal.Decimal
  PyObject* enum_type = nullptr;         // enum.Enum
  PyObject* dataclass_field = nullptr;   // dataclasses._FIELD
  PyObject* base_model_type = nullptr;   // pydantic.BaseModel
  PyObject* dataclass_cache = nullptr;   // {type: tuple of field names}
  PyObject* str_value = nullptr;         // interned names
  PyObject* str_int = nullptr;
  PyObject* str_isoformat = nullptr;
  PyObject* str_dataclass_fields = nullptr;
  PyObject* str_field_type = nullptr;
  PyObject* str_pydantic_serializer = nullptr;
  PyObject* str_to_json = nullptr;
  PyObject* by_alias_kwnames = nullptr;  // ("by_alias",)
  PyObject* py_64 = nullptr;
};

KnownTypes g_types;

bool intern(PyObject*& slot, const char* s) {
  if (!slot) slot = PyUnicode_InternFromString(s);
  return slot != nullptr;
}

// Returns a new reference to sys.modules[module].name, or nullptr (no error) if absent.
PyObject* lookup_loaded(const char* module, const char* name) {
  PyObject* mod_name = PyUnicode_FromString(module);
  if (!mod_name) return nullptr;
  PyObject* mod = PyImport_GetModule(mod_name);
  Py_DECREF(mod_name);
  if (!mod) {
    PyErr_Clear();
    return nullptr;
  }
  PyObject* attr = PyObject_GetAttrString(mod, name);
  Py_DECREF(mod);
  if (!attr) PyErr_Clear();
  return attr;
}

// Fills what it can of g_types; returns false with an exception only on memory errors.
bool ensure_known_types() {
  KnownTypes& t = g_types;
  if (!intern(t.str_value, "value") || !intern(t.str_int, "int") ||
      !intern(t.str_isoformat, "isoformat") ||
      !intern(t.str_dataclass_fields, "__dataclass_fields__") ||
      !intern(t.str_field_type, "_field_type") ||
      !intern(t.str_pydantic_serializer, "__pydantic_serializer__") ||
      !intern(t.str_to_json, "to_json")) {
    return false;
  }
  if (!t.by_alias_kwnames) {
    t.by_alias_kwnames = Py_BuildValue("(s)", "by_alias");
    if (!t.by_alias_kwnames) return false;
  }
  if (!t.py_64 && !(t.py_64 = PyLong_FromLong(64))) return false;
  if (!t.dataclass_cache && !(t.dataclass_cache = PyDict_New())) return false;
  if (!t.datetime_ready) {
    PyObject* name = PyUnicode_FromString("datetime");
    PyObject* mod = name ? PyImport_GetModule(name) : nullptr;
    Py_XDECREF(name);
    if (mod) {
      Py_DECREF(mod);
      PyDateTime_IMPORT;
      if (PyDateTimeAPI) t.datetime_ready = true;
    }
    PyErr_Clear();
  }
  if (!t.uuid_type) t.uuid_type = lookup_loaded("uuid", "UUID");
  if (!t.decimal_type) t.decimal_type = lookup_loaded("decimal", "Decimal");
  if (!t.enum_type) t.enum_type = lookup_loaded("enum", "Enum");
  if (!t.dataclass_field) t.dataclass_field = lookup_loaded("dataclasses", "_FIELD");
  if (!t.base_model_type) t.base_model_type = lookup_loaded("pydantic", "BaseModel");
  return true;
}

bool is_subtype(PyTypeObject* t, PyObject* base) {
  return base && PyType_Check(base) && PyType_IsSubtype(t, reinterpret_cast<PyTypeObject*>(base));
}

// type(o).__name__ as json.dumps reports it ("datetime", not "datetime.datetime").
const char* short_type_name(PyTypeObject* t) {
  const char* s = std::strrchr(t->tp_name, '.');
  return s ? s + 1 : t->tp_name;
}

class Encoder {
 public:
  explicit Encoder(std::string& out) : buf_(out) {}

  bool encode(PyObject* o) {
    PyTypeObject* t = Py_TYPE(o);
    if (t == &PyUnicode_Type) return write_str(o);
    if (t == &PyDict_Type) return write_dict(o);
    if (t == &PyLong_Type) return write_int(o);
    if (t == &PyFloat_Type) return write_float(o);
    if (t == &PyList_Type) return write_list(o);
    if (o == Py_None) return write_literal("null");
    if (o == Py_True) return write_literal("true");
    if (o == Py_False) return write_literal("false");
    if (t == &PyTuple_Type) return write_tuple(o);
    return encode_other(o);
  }

  void rollback() noexcept { buf_.rollback(); }

  // Plan kinds of fasterapi/_model_json.py (a leaf is an int, other nodes tuples).
  enum PlanKind : long { kStr, kInt, kFloat, kBool, kNullable, kList, kModel };

  // A plan kind without PyLong_AsLong: the kinds are small ints, which CPython shares.
  static long plan_kind(PyObject* k) {
    static PyObject* const kinds[] = {PyLong_FromLong(kStr),      PyLong_FromLong(kInt),
                                      PyLong_FromLong(kFloat),    PyLong_FromLong(kBool),
                                      PyLong_FromLong(kNullable), PyLong_FromLong(kList),
                                      PyLong_FromLong(kModel)};
    for (long i = 0; i <= kModel; ++i) {
      if (kinds[i] == k) return i;
    }
    return PyLong_AsLong(k);  // not a shared int (never in practice): the slow way
  }

  // Writes v as the plan node directs; false (and no exception left set) when v is not
  // exactly what the node expects. `validated`: v would go through pydantic validation (a
  // dict's values), so an int in a float field is written as the float pydantic makes of
  // it; an instance's attributes are written as they are, never converted.
  bool write_planned(PyObject* v, PyObject* node, bool validated) {
    long kind = plan_kind(PyTuple_Check(node) ? PyTuple_GET_ITEM(node, 0) : node);
    PyTypeObject* t = Py_TYPE(v);
    switch (kind) {
      case kStr:
        if (t != &PyUnicode_Type) return false;
        if (write_str(v)) return true;
        PyErr_Clear();  // a lone surrogate: pydantic says what happens
        return false;
      case kInt:
        if (t != &PyLong_Type) return false;
        if (write_int(v)) return true;
        PyErr_Clear();  // past sys.get_int_max_str_digits()
        return false;
      case kFloat: {
        double d;
        if (t == &PyFloat_Type) {
          d = PyFloat_AS_DOUBLE(v);
        } else if (validated && t == &PyLong_Type) {
          d = PyLong_AsDouble(v);
          if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return false;
          }
        } else {
          return false;
        }
        // pydantic writes inf/nan as null and 0 < |d| < 1e-4 as "0.00001" where repr (and
        // format_double) says "1e-05": those are left to pydantic.
        if (!std::isfinite(d) || (d != 0.0 && std::fabs(d) < 1e-4)) return false;
        return write_double(d);
      }
      case kBool:
        if (v == Py_True) return write_literal("true");
        if (v == Py_False) return write_literal("false");
        return false;
      case kNullable:
        if (v == Py_None) return write_literal("null");
        return write_planned(v, PyTuple_GET_ITEM(node, 1), validated);
      case kList: {
        if (t != &PyList_Type) return false;
        PyObject* item = PyTuple_GET_ITEM(node, 1);
        buf_.put('[');
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); ++i) {
          if (i) buf_.put(',');
          // Held while written: a row dict's key lookup can run a key's __eq__, which could
          // shrink the list under us.
          PyObject* element = PyList_GET_ITEM(v, i);
          Py_INCREF(element);
          bool ok = write_planned(element, item, validated);
          Py_DECREF(element);
          if (!ok) return false;
        }
        buf_.put(']');
        return true;
      }
      case kModel:
        return write_planned_model(v, node, validated);
      default:
        PyErr_Clear();
        return false;
    }
  }

 private:
  template <std::size_t N>
  bool write_literal(const char (&s)[N]) {
    buf_.write(s, N - 1);
    return true;
  }

  bool write_str(PyObject* o) {
    Py_ssize_t n;
    const char* p;
    if (PyUnicode_IS_COMPACT_ASCII(o)) {
      p = reinterpret_cast<const char*>(reinterpret_cast<PyASCIIObject*>(o) + 1);
      n = PyUnicode_GET_LENGTH(o);
    } else {
      p = PyUnicode_AsUTF8AndSize(o, &n);  // UTF-8 is cached on the str; surrogates raise
      if (!p) return false;
    }
    fa::json::append_json_string_fast(buf_, std::string_view(p, static_cast<std::size_t>(n)));
    return true;
  }

  bool write_int(PyObject* o) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (!overflow) {
      if (v == -1 && PyErr_Occurred()) return false;
      char* p = buf_.ensure(fa::json::kMaxIntChars);
      buf_.set_cursor(fa::json::format_int(v, p));
      return true;
    }
    // Beyond 64 bits: int.__repr__, which is what json.dumps writes (and which enforces
    // sys.set_int_max_str_digits the same way).
    PyObject* s = PyLong_Type.tp_repr(o);
    if (!s) return false;
    Py_ssize_t n;
    const char* p = PyUnicode_AsUTF8AndSize(s, &n);
    if (p) buf_.write(p, static_cast<std::size_t>(n));
    Py_DECREF(s);
    return p != nullptr;
  }

  bool write_double(double v) {
    if (!std::isfinite(v)) {
      PyErr_Format(PyExc_ValueError, "Out of range float values are not JSON compliant: %s",
                   std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
      return false;
    }
    char* p = buf_.ensure(fa::json::kMaxDoubleChars);
    buf_.advance(fa::json::format_double(v, p));
    return true;
  }
  bool write_float(PyObject* o) { return write_double(PyFloat_AS_DOUBLE(o)); }

  bool enter() {
    if (++depth_ > kMaxEncodeDepth) {
      PyErr_SetString(PyExc_RecursionError,
                      "maximum recursion depth exceeded while encoding a JSON object");
      return false;
    }
    return true;
  }

  // A borrowed value may lose its last reference if encoding runs Python code (an Enum's
  // value, a model's serializer) that mutates the container, so hold one while encoding.
  bool encode_held(PyObject* o) {
    Py_INCREF(o);
    bool ok = encode(o);
    Py_DECREF(o);
    return ok;
  }

  bool write_key(PyObject* k) {
    if (!PyUnicode_Check(k)) {
      PyErr_Format(PyExc_TypeError, "keys must be str, not %s", short_type_name(Py_TYPE(k)));
      return false;
    }
    return write_str(k);
  }

  bool write_dict(PyObject* d) {
    if (PyDict_GET_SIZE(d) == 0) return write_literal("{}");
    if (!enter()) return false;
    buf_.put('{');
    Py_ssize_t pos = 0;
    PyObject* k;
    PyObject* v;
    bool first = true;
    while (PyDict_Next(d, &pos, &k, &v)) {
      if (!first) buf_.put(',');
      first = false;
      if (!write_key(k)) return false;
      buf_.put(':');
      if (!encode_held(v)) return false;
    }
    buf_.put('}');
    --depth_;
    return true;
  }

  bool write_list(PyObject* l) {
    if (PyList_GET_SIZE(l) == 0) return write_literal("[]");
    if (!enter()) return false;
    buf_.put('[');
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); ++i) {  // the size may change under us
      if (i) buf_.put(',');
      if (!encode_held(PyList_GET_ITEM(l, i))) return false;
    }
    buf_.put(']');
    --depth_;
    return true;
  }

  bool write_tuple(PyObject* t) {
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    if (n == 0) return write_literal("[]");
    if (!enter()) return false;
    buf_.put('[');
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (i) buf_.put(',');
      if (!encode(PyTuple_GET_ITEM(t, i))) return false;  // tuples are immutable
    }
    buf_.put(']');
    --depth_;
    return true;
  }

  bool encode_other(PyObject* o) {
    PyTypeObject* t = Py_TYPE(o);
    // Subclasses of the builtins are encoded like their bases, as json.dumps does.
    if (PyUnicode_Check(o)) return write_str(o);
    if (PyLong_Check(o)) return write_int(o);
    if (PyFloat_Check(o)) return write_double(PyFloat_AS_DOUBLE(o));
    if (PyDict_Check(o)) return write_dict(o);
    if (PyList_Check(o)) return write_list(o);
    if (PyTuple_Check(o)) return write_tuple(o);
    if (!ensure_known_types()) return false;
    const KnownTypes& k = g_types;
    if (k.datetime_ready) {
      if (PyDateTime_CheckExact(o) || PyDate_CheckExact(o) || PyTime_CheckExact(o)) {
        return write_temporal(o);
      }
      if (PyDateTime_Check(o) || PyDate_Check(o) || PyTime_Check(o)) return write_isoformat(o);
    }
    if (is_subtype(t, k.uuid_type)) return write_uuid(o);
    if (is_subtype(t, k.decimal_type)) return write_decimal(o);
    if (is_subtype(t, k.enum_type)) return write_enum(o);
    if (is_subtype(t, k.base_model_type)) return write_model(o);
    PyObject* fields = PyObject_GetAttr(reinterpret_cast<PyObject*>(t), k.str_dataclass_fields);
    if (fields) return write_dataclass(o, fields);
    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return false;
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "Object of type %s is not JSON serializable", short_type_name(t));
    return false;
  }

  // Writes n decimal digits of v, zero-padded.
  static char* digits(char* p, int v, int n) {
    for (int i = n - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    return p + n;
  }

  // Naive datetime/date/time formatted here; anything with a tzinfo asks isoformat().
  bool write_temporal(PyObject* o) {
    constexpr std::size_t kMaxIsoChars = 32;  // "YYYY-MM-DDTHH:MM:SS.ffffff" and quotes
    const bool is_time = PyTime_CheckExact(o);
    const bool is_datetime = PyDateTime_CheckExact(o);
    if ((is_time || is_datetime) && _PyDateTime_HAS_TZINFO(o)) return write_isoformat(o);
    char* p = buf_.ensure(kMaxIsoChars);
    *p++ = '"';
    if (!is_time) {
      p = digits(p, PyDateTime_GET_YEAR(o), 4);
      *p++ = '-';
      p = digits(p, PyDateTime_GET_MONTH(o), 2);
      *p++ = '-';
      p = digits(p, PyDateTime_GET_DAY(o), 2);
    }
    if (is_time || is_datetime) {
      int h = is_time ? PyDateTime_TIME_GET_HOUR(o) : PyDateTime_DATE_GET_HOUR(o);
      int m = is_time ? PyDateTime_TIME_GET_MINUTE(o) : PyDateTime_DATE_GET_MINUTE(o);
      int s = is_time ? PyDateTime_TIME_GET_SECOND(o) : PyDateTime_DATE_GET_SECOND(o);
      int us = is_time ? PyDateTime_TIME_GET_MICROSECOND(o) : PyDateTime_DATE_GET_MICROSECOND(o);
      if (is_datetime) *p++ = 'T';
      p = digits(p, h, 2);
      *p++ = ':';
      p = digits(p, m, 2);
      *p++ = ':';
      p = digits(p, s, 2);
      if (us) {
        *p++ = '.';
        p = digits(p, us, 6);
      }
    }
    *p++ = '"';
    buf_.set_cursor(p);
    return true;
  }

  bool write_isoformat(PyObject* o) {
    PyObject* s = PyObject_CallMethodNoArgs(o, g_types.str_isoformat);
    if (!s) return false;
    bool ok = PyUnicode_Check(s) ? write_str(s) : false;
    if (!ok && !PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "isoformat() must return str");
    Py_DECREF(s);
    return ok;
  }

  // str(uuid): 8-4-4-4-12 lowercase hex digits of uuid.int.
  bool write_uuid(PyObject* o) {
    PyObject* value = PyObject_GetAttr(o, g_types.str_int);
    if (!value) return false;
    if (!PyLong_Check(value)) {
      Py_DECREF(value);
      return write_str_of_object(o);
    }
    std::uint64_t lo = PyLong_AsUnsignedLongLongMask(value);
    PyObject* high = PyNumber_Rshift(value, g_types.py_64);
    Py_DECREF(value);
    if (!high) return false;
    std::uint64_t hi = PyLong_AsUnsignedLongLongMask(high);
    Py_DECREF(high);
    if (PyErr_Occurred()) return false;
    constexpr char kHex[] = "0123456789abcdef";
    char hex[32];
    for (int i = 0; i < 16; ++i) {
      hex[15 - i] = kHex[(hi >> (4 * i)) & 15];
      hex[31 - i] = kHex[(lo >> (4 * i)) & 15];
    }
    char* p = buf_.ensure(38);  // 36 characters and quotes
    *p++ = '"';
    int at = 0;
    for (int group : {8, 4, 4, 4, 12}) {
      if (at) *p++ = '-';
      std::memcpy(p, hex + at, group);
      p += group;
      at += group;
    }
    *p++ = '"';
    buf_.set_cursor(p);
    return true;
  }

  bool write_str_of_object(PyObject* o) {
    PyObject* s = PyObject_Str(o);
    if (!s) return false;
    bool ok = write_str(s);
    Py_DECREF(s);
    return ok;
  }

  // str(Decimal) is a valid JSON number (RFC 8259 section 6) unless it is NaN or infinite.
  bool write_decimal(PyObject* o) {
    PyObject* s = PyObject_Str(o);
    if (!s) return false;
    Py_ssize_t n;
    const char* p = PyUnicode_AsUTF8AndSize(s, &n);
    bool ok = p != nullptr;
    if (ok && std::string_view(p, n).find_first_of("NnIi") != std::string_view::npos) {
      PyErr_Format(PyExc_ValueError, "Out of range Decimal values are not JSON compliant: %s", p);
      ok = false;
    }
    if (ok) buf_.write(p, static_cast<std::size_t>(n));
    Py_DECREF(s);
    return ok;
  }

  bool write_enum(PyObject* o) {
    PyObject* v = PyObject_GetAttr(o, g_types.str_value);
    if (!v) return false;
    bool ok = enter() && encode(v);
    if (ok) --depth_;
    Py_DECREF(v);
    return ok;
  }

  // model.__pydantic_serializer__.to_json(model, by_alias=True): FastAPI's response-model
  // default, and faster than model_dump(mode="json") followed by our encoder.
  bool write_model(PyObject* o) {
    PyObject* ser = PyObject_GetAttr(o, g_types.str_pydantic_serializer);
    if (!ser) return false;
    PyObject* args[] = {ser, o, Py_True};
    PyObject* bytes = PyObject_VectorcallMethod(
        g_types.str_to_json, args, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, g_types.by_alias_kwnames);
    Py_DECREF(ser);
    if (!bytes) return false;
    bool ok = PyBytes_Check(bytes);
    if (ok) {
      buf_.write(PyBytes_AS_STRING(bytes), static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
    } else {
      PyErr_SetString(PyExc_TypeError, "__pydantic_serializer__.to_json() did not return bytes");
    }
    Py_DECREF(bytes);
    return ok;
  }

  // Returns a new reference to the tuple of the dataclass's field names (ClassVar and InitVar
  // pseudo-fields excluded, as dataclasses.fields() does), cached per type.
  PyObject* dataclass_names(PyObject* type, PyObject* fields) {
    PyObject* cached = PyDict_GetItemWithError(g_types.dataclass_cache, type);
    if (cached) {
      Py_INCREF(cached);
      return cached;
    }
    if (PyErr_Occurred() || !PyDict_Check(fields)) {
      if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "__dataclass_fields__ is not a dict");
      return nullptr;
    }
    PyObject* names = PyList_New(0);
    if (!names) return nullptr;
    Py_ssize_t pos = 0;
    PyObject* name;
    PyObject* field;
    while (PyDict_Next(fields, &pos, &name, &field)) {
      PyObject* kind = PyObject_GetAttr(field, g_types.str_field_type);
      if (!kind) {
        Py_DECREF(names);
        return nullptr;
      }
      bool regular = !g_types.dataclass_field || kind == g_types.dataclass_field;
      Py_DECREF(kind);
      if (regular && PyList_Append(names, name) < 0) {
        Py_DECREF(names);
        return nullptr;
      }
    }
    PyObject* tuple = PyList_AsTuple(names);
    Py_DECREF(names);
    if (tuple && PyDict_SetItem(g_types.dataclass_cache, type, tuple) < 0) Py_CLEAR(tuple);
    return tuple;
  }

  bool write_dataclass(PyObject* o, PyObject* fields) {
    PyObject* names = dataclass_names(reinterpret_cast<PyObject*>(Py_TYPE(o)), fields);
    Py_DECREF(fields);
    if (!names) return false;
    bool ok = enter();
    Py_ssize_t n = ok ? PyTuple_GET_SIZE(names) : 0;
    if (ok) buf_.put('{');
    for (Py_ssize_t i = 0; ok && i < n; ++i) {
      PyObject* name = PyTuple_GET_ITEM(names, i);
      if (i) buf_.put(',');
      PyObject* v = PyObject_GetAttr(o, name);
      ok = v && write_key(name);
      if (ok) {
        buf_.put(':');
        ok = encode(v);
      }
      Py_XDECREF(v);
    }
    Py_DECREF(names);
    if (!ok) return false;
    buf_.put('}');
    --depth_;
    return true;
  }

  // A dict going through validation (read by input key), or an instance of exactly the
  // model's class (read from its __dict__; validation hands it back as it is).
  bool write_planned_model(PyObject* v, PyObject* node, bool validated) {
    PyObject* cls = PyTuple_GET_ITEM(node, 1);
    PyObject* fields = PyTuple_GET_ITEM(node, 2);
    PyObject* source;
    bool from_dict = validated && Py_TYPE(v) == &PyDict_Type;
    if (from_dict) {
      source = v;
      Py_INCREF(source);
    } else if (reinterpret_cast<PyObject*>(Py_TYPE(v)) == cls) {
      source = PyObject_GenericGetDict(v, nullptr);
      if (!source) {
        PyErr_Clear();
        return false;
      }
    } else {
      return false;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(fields);
    bool ok = true;
    if (n == 0) buf_.put('{');
    // Rows and __dict__s usually hold the fields first and in the model's order, under the
    // same (interned) str objects: walking the dict alongside the fields finds them without
    // hashing; the first key out of step switches to lookups.
    Py_ssize_t pos = 0;
    bool in_step = true;
    for (Py_ssize_t i = 0; ok && i < n; ++i) {
      PyObject* field = PyTuple_GET_ITEM(fields, i);
      PyObject* name = PyTuple_GET_ITEM(field, from_dict ? 0 : 1);
      PyObject* value = nullptr;
      if (in_step) {
        PyObject* k;
        PyObject* v;
        if (PyDict_Next(source, &pos, &k, &v) && k == name) {
          value = v;
        } else {
          in_step = false;
        }
      }
      if (!value) value = PyDict_GetItemWithError(source, name);
      bool validated = from_dict;
      if (!value) {
        PyErr_Clear();
        if (!from_dict || PyTuple_GET_SIZE(field) < 5) {
          ok = false;
          break;
        }
        value = PyTuple_GET_ITEM(field, 4);  // the field's default, written as it is
        validated = false;
      }
      PyObject* key = PyTuple_GET_ITEM(field, 2);  // b'"name":'
      buf_.put(i ? ',' : '{');
      buf_.write(PyBytes_AS_STRING(key), static_cast<std::size_t>(PyBytes_GET_SIZE(key)));
      Py_INCREF(value);
      ok = write_planned(value, PyTuple_GET_ITEM(field, 3), validated);
      Py_DECREF(value);
    }
    Py_DECREF(source);
    if (ok) buf_.put('}');
    return ok;
  }

  OutputBuffer buf_;
  int depth_ = 0;
};

}  // namespace

int json_encode_planned(PyObject* obj, PyObject* plan, std::string& out) {
  try {
    Encoder enc(out);
    try {
      if (enc.write_planned(obj, plan, true)) return 1;
    } catch (const std::bad_alloc&) {
      PyErr_NoMemory();
      enc.rollback();
      return -1;
    }
    enc.rollback();
    return 0;
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  }
  return -1;
}

bool json_encode(PyObject* obj, std::string& out) {
  try {
    Encoder enc(out);
    try {
      if (enc.encode(obj)) return true;
    } catch (const std::bad_alloc&) {
      PyErr_NoMemory();
    }
    enc.rollback();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  }
  return false;
}

}  // namespace fa::py
