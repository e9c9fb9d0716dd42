// pg Record: an immutable row with index and mapping access (asyncpg-style), built with the CPython API.
#pragma once

#include <Python.h>

namespace fa::py::pg {

// Creates the Record type; call once at module init. Returns a new reference or nullptr.
PyObject* record_type_init();
// The Record type object (valid after record_type_init).
PyTypeObject* record_type();
// Returns a new Record with n empty slots sharing keys (tuple of names) and index (dict name->int).
// Fill with record_set (steals the reference). Returns nullptr on memory error.
PyObject* record_new(Py_ssize_t n, PyObject* keys, PyObject* index);
void record_set(PyObject* rec, Py_ssize_t i, PyObject* v);  // steals v
PyObject* record_get(PyObject* rec, Py_ssize_t i);           // borrowed

}  // namespace fa::py::pg
