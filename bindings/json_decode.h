// JSON parser into Python objects (simdjson DOM, CPython C API).
#pragma once

#include <Python.h>

#include <string_view>

namespace fa::py {

// Parses JSON text into Python objects. Returns a new reference, or nullptr with ValueError set
// (message includes the byte position).
// Valid input gives what json.loads gives: objects -> dict (last duplicate key wins),
// arrays -> list, integers -> int of any size, other numbers -> float. Input that simdjson
// rejects is handed to json.loads, so its extensions (NaN, Infinity, lone surrogate escapes,
// 1e400 -> inf) and its errors (json.JSONDecodeError, a ValueError) are what the caller sees;
// the error message gains "(byte N)".
PyObject* json_decode(std::string_view text);

// As json_decode, but falls back to json.loads(original) so str input keeps str semantics.
PyObject* json_decode_with_fallback(std::string_view text, PyObject* original);

}  // namespace fa::py
