// pg codecs: PostgreSQL binary formats <-> Python objects (CPython API), chosen per type OID.
#pragma once

#include <Python.h>

#include <cstdint>
#include <string>

namespace fa::py::pg {

// Returns a new reference, or nullptr with a Python exception set.
using Decoder = PyObject* (*)(const char* p, size_t n);
// Appends the binary form of v for type oid to out; returns false with a Python exception set.
using Encoder = bool (*)(PyObject* v, uint32_t oid, std::string& out);

// Imports decimal, uuid, json and the datetime C API; returns false with an exception set.
bool codecs_init();
// The binary decoder for oid, or nullptr if the type has none (then the column is read as text).
Decoder binary_decoder(uint32_t oid);
// The binary encoder for oid, or nullptr (then the parameter is sent as text: str(value)).
Encoder binary_encoder(uint32_t oid);
// Decodes a text-format value as str.
PyObject* decode_text(const char* p, size_t n);
// Element type of a known array type, or 0.
uint32_t array_element_oid(uint32_t array_oid);

// Well-known type OIDs (pg_type.dat).
namespace oid {
inline constexpr uint32_t kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20, kInt2 = 21,
                          kInt4 = 23, kText = 25, kOid = 26, kJson = 114, kXml = 142, kFloat4 = 700,
                          kFloat8 = 701, kUnknown = 705, kBpchar = 1042, kVarchar = 1043, kDate = 1082,
                          kTime = 1083, kTimestamp = 1114, kTimestamptz = 1184, kInterval = 1186,
                          kTimetz = 1266, kNumeric = 1700, kUuid = 2950, kJsonb = 3802;
}  // namespace oid

}  // namespace fa::py::pg
