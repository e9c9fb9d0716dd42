// pg Record: values in a variable-size object plus shared column keys/index.
#include "pg_record.h"

#include <cstddef>

namespace fa::py::pg {

namespace {

struct Record {
  PyObject_VAR_HEAD PyObject* keys;  // tuple of column names, shared by every row of a result
  PyObject* index;                   // dict name -> int, shared
  PyObject* items[1];
};

PyTypeObject* g_type = nullptr;

Record* as_rec(PyObject* o) {
  return reinterpret_cast<Record*>(o);
}

void rec_dealloc(PyObject* o) {
  Record* r = as_rec(o);
  PyObject_GC_UnTrack(o);
  for (Py_ssize_t i = 0; i < Py_SIZE(o); ++i) Py_XDECREF(r->items[i]);
  Py_XDECREF(r->keys);
  Py_XDECREF(r->index);
  PyTypeObject* tp = Py_TYPE(o);
  tp->tp_free(o);
  Py_DECREF(tp);
}

int rec_traverse(PyObject* o, visitproc visit, void* arg) {
  Record* r = as_rec(o);
  for (Py_ssize_t i = 0; i < Py_SIZE(o); ++i) Py_VISIT(r->items[i]);
  Py_VISIT(Py_TYPE(o));
  return 0;
}

int rec_clear(PyObject* o) {
  Record* r = as_rec(o);
  for (Py_ssize_t i = 0; i < Py_SIZE(o); ++i) Py_CLEAR(r->items[i]);
  return 0;
}

Py_ssize_t rec_len(PyObject* o) {
  return Py_SIZE(o);
}

PyObject* rec_item(PyObject* o, Py_ssize_t i) {
  if (i < 0 || i >= Py_SIZE(o)) {
    PyErr_SetString(PyExc_IndexError, "Record index out of range");
    return nullptr;
  }
  PyObject* v = as_rec(o)->items[i];
  Py_INCREF(v);
  return v;
}

// Looks a key up: str -> column, int -> position, slice -> tuple. Sets KeyError/IndexError.
PyObject* rec_subscript(PyObject* o, PyObject* key) {
  Record* r = as_rec(o);
  if (PyUnicode_Check(key)) {
    PyObject* idx = PyDict_GetItemWithError(r->index, key);
    if (!idx) {
      if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
      return nullptr;
    }
    return rec_item(o, PyLong_AsSsize_t(idx));
  }
  if (PyIndex_Check(key)) {
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred()) return nullptr;
    if (i < 0) i += Py_SIZE(o);
    return rec_item(o, i);
  }
  if (PySlice_Check(key)) {
    PyObject* t = PyTuple_New(Py_SIZE(o));
    if (!t) return nullptr;
    for (Py_ssize_t i = 0; i < Py_SIZE(o); ++i) {
      Py_INCREF(r->items[i]);
      PyTuple_SET_ITEM(t, i, r->items[i]);
    }
    PyObject* res = PyObject_GetItem(t, key);
    Py_DECREF(t);
    return res;
  }
  PyErr_Format(PyExc_TypeError, "Record indices must be str, int or slice, not %.100s",
               Py_TYPE(key)->tp_name);
  return nullptr;
}

int rec_contains(PyObject* o, PyObject* key) {
  return PyDict_Contains(as_rec(o)->index, key);
}

PyObject* values_tuple(PyObject* o) {
  Record* r = as_rec(o);
  PyObject* t = PyTuple_New(Py_SIZE(o));
  if (!t) return nullptr;
  for (Py_ssize_t i = 0; i < Py_SIZE(o); ++i) {
    Py_INCREF(r->items[i]);
    PyTuple_SET_ITEM(t, i, r->items[i]);
  }
  return t;
}

PyObject* rec_iter(PyObject* o) {  // iterates values, like asyncpg and tuples
  PyObject* t = values_tuple(o);
  if (!t) return nullptr;
  PyObject* it = PyObject_GetIter(t);
  Py_DECREF(t);
  return it;
}

PyObject* rec_keys(PyObject* o, PyObject*) {
  return PyObject_GetIter(as_rec(o)->keys);
}
PyObject* rec_values(PyObject* o, PyObject*) {
  return rec_iter(o);
}

PyObject* rec_items(PyObject* o, PyObject*) {
  Record* r = as_rec(o);
  PyObject* l = PyList_New(Py_SIZE(o));
  if (!l) return nullptr;
  for (Py_ssize_t i = 0; i < Py_SIZE(o); ++i) {
    PyObject* pair = PyTuple_Pack(2, PyTuple_GET_ITEM(r->keys, i), r->items[i]);
    if (!pair) {
      Py_DECREF(l);
      return nullptr;
    }
    PyList_SET_ITEM(l, i, pair);
  }
  PyObject* it = PyObject_GetIter(l);
  Py_DECREF(l);
  return it;
}

PyObject* rec_get(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 1 || nargs > 2) {
    PyErr_SetString(PyExc_TypeError, "Record.get(key, default=None)");
    return nullptr;
  }
  PyObject* idx = PyDict_GetItemWithError(as_rec(o)->index, args[0]);
  if (idx) return rec_item(o, PyLong_AsSsize_t(idx));
  if (PyErr_Occurred()) return nullptr;
  PyObject* d = nargs == 2 ? args[1] : Py_None;
  Py_INCREF(d);
  return d;
}

PyObject* rec_repr(PyObject* o) {
  Record* r = as_rec(o);
  PyObject* parts = PyList_New(0);
  if (!parts) return nullptr;
  for (Py_ssize_t i = 0; i < Py_SIZE(o); ++i) {
    PyObject* s = PyUnicode_FromFormat("%U=%R", PyTuple_GET_ITEM(r->keys, i), r->items[i]);
    if (!s || PyList_Append(parts, s) < 0) {
      Py_XDECREF(s);
      Py_DECREF(parts);
      return nullptr;
    }
    Py_DECREF(s);
  }
  PyObject* sep = PyUnicode_FromString(" ");
  PyObject* body = PyUnicode_Join(sep, parts);
  Py_DECREF(sep);
  Py_DECREF(parts);
  if (!body) return nullptr;
  PyObject* res = PyUnicode_FromFormat("<Record %U>", body);
  Py_DECREF(body);
  return res;
}

PyObject* rec_richcompare(PyObject* a, PyObject* b, int op) {
  PyObject* ta = values_tuple(a);
  if (!ta) return nullptr;
  PyObject* tb = PyObject_TypeCheck(b, g_type) ? values_tuple(b) : (Py_INCREF(b), b);
  if (!tb) {
    Py_DECREF(ta);
    return nullptr;
  }
  PyObject* res = PyObject_RichCompare(ta, tb, op);
  Py_DECREF(ta);
  Py_DECREF(tb);
  return res;
}

Py_hash_t rec_hash(PyObject* o) {
  PyObject* t = values_tuple(o);
  if (!t) return -1;
  Py_hash_t h = PyObject_Hash(t);
  Py_DECREF(t);
  return h;
}

PyMethodDef rec_methods[] = {
    {"keys", rec_keys, METH_NOARGS, "Column names, in order."},
    {"values", rec_values, METH_NOARGS, "Values, in order."},
    {"items", rec_items, METH_NOARGS, "(name, value) pairs."},
    {"get", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(rec_get)), METH_FASTCALL,
     "Value of a column, or default."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot rec_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(rec_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(rec_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(rec_clear)},
    {Py_tp_repr, reinterpret_cast<void*>(rec_repr)},
    {Py_tp_iter, reinterpret_cast<void*>(rec_iter)},
    {Py_tp_hash, reinterpret_cast<void*>(rec_hash)},
    {Py_tp_richcompare, reinterpret_cast<void*>(rec_richcompare)},
    {Py_tp_methods, rec_methods},
    {Py_sq_length, reinterpret_cast<void*>(rec_len)},
    {Py_sq_item, reinterpret_cast<void*>(rec_item)},
    {Py_sq_contains, reinterpret_cast<void*>(rec_contains)},
    {Py_mp_length, reinterpret_cast<void*>(rec_len)},
    {Py_mp_subscript, reinterpret_cast<void*>(rec_subscript)},
    {Py_tp_doc,
     const_cast<char*>("A result row: r[0], r['name'], r.get('name'), keys(), values(), items().")},
    {0, nullptr},
};

PyType_Spec rec_spec = {
    "fasterapi._native.pg.Record",
    static_cast<int>(offsetof(Record, items)),
    sizeof(PyObject*),
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    rec_slots,
};

}  // namespace

PyObject* record_type_init() {
  if (!g_type) g_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&rec_spec));
  Py_XINCREF(g_type);
  return reinterpret_cast<PyObject*>(g_type);
}

PyTypeObject* record_type() {
  return g_type;
}

PyObject* record_new(Py_ssize_t n, PyObject* keys, PyObject* index) {
  Record* r = PyObject_GC_NewVar(Record, g_type, n);
  if (!r) return nullptr;
  for (Py_ssize_t i = 0; i < n; ++i) r->items[i] = nullptr;
  Py_INCREF(keys);
  Py_INCREF(index);
  r->keys = keys;
  r->index = index;
  // Tracked by record_set once it holds a value the collector tracks (a list, a dict, ...):
  // a Record of ints and strs can be in no cycle (its values are fixed), so like a tuple of
  // atoms (CPython's _PyTuple_MaybeUntrack) it stays out of the young generation's walks.
  return reinterpret_cast<PyObject*>(r);
}

void record_set(PyObject* rec, Py_ssize_t i, PyObject* v) {
  as_rec(rec)->items[i] = v;
  if (v && PyObject_GC_IsTracked(v) && !PyObject_GC_IsTracked(rec)) PyObject_GC_Track(rec);
}
PyObject* record_get(PyObject* rec, Py_ssize_t i) {
  return as_rec(rec)->items[i];
}

}  // namespace fa::py::pg
