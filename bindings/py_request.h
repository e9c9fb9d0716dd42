// fasterapi._native.Request: the request as Python sees it. A CPython type (subclassable; the
// Python layer's Request adds properties) that owns a copy of the request head and body and
// creates Python objects only when an attribute is first read.
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include "http/request.h"
#include "http/response.h"

namespace fa::py {

extern PyTypeObject RequestType;

// Readies RequestType; call once at module init. Returns false with an exception set.
bool init_request_type();

// Builds an instance of `type` (RequestType or a subclass) for the current exchange.
// Returns a new reference, or nullptr with an exception set.
PyObject* make_request(PyTypeObject* type, const http::Request& req, const http::ResponseHandle& handle);

}  // namespace fa::py
