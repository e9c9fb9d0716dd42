// libFuzzer target: arbitrary DataRow and ErrorResponse bodies through the C++ client's Result,
// Value decoders and ServerError. Byte 0 picks the column count (0..7), the next bytes each
// column's type from the types with decoders; the rest is the DataRow body.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "pg/pg_error.h"
#include "pg/pg_result.h"

namespace {
constexpr uint32_t kTypes[] = {fa::pg::oids::kBool,   fa::pg::oids::kBytea,
                               fa::pg::oids::kInt8,   fa::pg::oids::kInt2,
                               fa::pg::oids::kInt4,   fa::pg::oids::kText,
                               fa::pg::oids::kOid,    fa::pg::oids::kFloat4,
                               fa::pg::oids::kFloat8, fa::pg::oids::kNumeric,
                               fa::pg::oids::kUuid,   fa::pg::oids::kJsonb,
                               fa::pg::oids::kJson,   1082 /* date: no decoder */};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)fa::pg::ServerError::from_body(in).fatal();
  if (size < 1) return 0;
  size_t ncols = data[0] % 8;
  if (size < 1 + ncols) return 0;
  auto cols = std::make_shared<fa::pg::Columns>();
  for (size_t i = 0; i < ncols; ++i)
    cols->push_back({"c", kTypes[data[1 + i] % (sizeof kTypes / sizeof kTypes[0])]});
  fa::pg::Result r;
  r.set_columns(cols);
  if (!r.add_row(in.substr(1 + ncols))) return 0;
  for (size_t i = 0; i < ncols; ++i) {
    fa::pg::Value v = r[0][i];
    try {
      (void)v.to_string();
    } catch (const fa::pg::DecodeError&) {
    }
    try {
      (void)v.as_int();
    } catch (const fa::pg::DecodeError&) {
    }
    try {
      (void)v.as_double();
    } catch (const fa::pg::DecodeError&) {
    }
    try {
      (void)v.as_text();
    } catch (const fa::pg::DecodeError&) {
    }
    try {
      (void)v.as<int16_t>();
    } catch (const fa::pg::DecodeError&) {
    }
  }
  return 0;
}
