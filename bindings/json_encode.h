// JSON encoder of Python objects into a std::string (CPython C API; the HTTP server calls it).
#pragma once

#include <Python.h>

#include <string>

namespace fa::py {

// Appends the JSON encoding of obj to out. Returns false with a Python exception set on error
// (out is then left as it was).
// Encodes dict, list, tuple, str, int, float, bool, None and their subclasses like
// json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode(); plus datetime/date/time
// (isoformat), UUID (str), Decimal (as a number), Enum (its value), dataclasses (fields in
// order) and pydantic v2 models (by alias, via their own serializer).
// Errors: TypeError for other types and non-str dict keys, ValueError for NaN/inf and
// unencodable (surrogate) strings, RecursionError past kMaxEncodeDepth nested containers.
bool json_encode(PyObject* obj, std::string& out);

// Appends obj's JSON as a response-model plan directs (fasterapi/_model_json.py: the bytes
// pydantic's dump_json(validate_python(obj)) gives). Returns 1 when written; 0, with out as it
// was and no exception, when obj is not exactly what the plan expects (the caller runs
// pydantic); -1 with a Python exception (memory).
int json_encode_planned(PyObject* obj, PyObject* plan, std::string& out);

// Containers nested deeper than this raise RecursionError (CPython's default recursion limit).
inline constexpr int kMaxEncodeDepth = 1000;

}  // namespace fa::py
