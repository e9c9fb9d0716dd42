// pg codecs: internal declarations shared by pg_codecs.cpp, pg_decode.cpp, pg_encode.cpp, pg_datetime.cpp.
#pragma once

#include "pg_codecs.h"

namespace fa::py::pg {

extern PyObject* g_decimal;     // decimal.Decimal
extern PyObject* g_uuid;        // uuid.UUID
extern PyObject* g_json_loads;  // json.loads
extern PyObject* g_json_dumps;  // json.dumps

// Sets ValueError("malformed binary value from server: what") and returns nullptr.
PyObject* bad_data(const char* what);
bool datetime_init();

PyObject* decode_bool(const char* p, size_t n);
PyObject* decode_bytea(const char* p, size_t n);
PyObject* decode_int2(const char* p, size_t n);
PyObject* decode_int4(const char* p, size_t n);
PyObject* decode_int8(const char* p, size_t n);
PyObject* decode_oid(const char* p, size_t n);
PyObject* decode_float4(const char* p, size_t n);
PyObject* decode_float8(const char* p, size_t n);
PyObject* decode_json(const char* p, size_t n);
PyObject* decode_jsonb(const char* p, size_t n);
PyObject* decode_numeric(const char* p, size_t n);
PyObject* decode_uuid(const char* p, size_t n);
PyObject* decode_date(const char* p, size_t n);
PyObject* decode_time(const char* p, size_t n);
PyObject* decode_timetz(const char* p, size_t n);
PyObject* decode_timestamp(const char* p, size_t n);
PyObject* decode_timestamptz(const char* p, size_t n);
PyObject* decode_interval(const char* p, size_t n);

bool encode_bool(PyObject* v, uint32_t oid, std::string& out);
bool encode_bytea(PyObject* v, uint32_t oid, std::string& out);
bool encode_text(PyObject* v, uint32_t oid, std::string& out);
bool encode_int(PyObject* v, uint32_t oid, std::string& out);
bool encode_float(PyObject* v, uint32_t oid, std::string& out);
bool encode_json(PyObject* v, uint32_t oid, std::string& out);
bool encode_numeric(PyObject* v, uint32_t oid, std::string& out);
bool encode_uuid(PyObject* v, uint32_t oid, std::string& out);
bool encode_date(PyObject* v, uint32_t oid, std::string& out);
bool encode_time(PyObject* v, uint32_t oid, std::string& out);
bool encode_timetz(PyObject* v, uint32_t oid, std::string& out);
bool encode_timestamp(PyObject* v, uint32_t oid, std::string& out);
bool encode_interval(PyObject* v, uint32_t oid, std::string& out);

}  // namespace fa::py::pg
