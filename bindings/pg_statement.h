// pg Statement: a prepared statement's parameter and result shapes, with their codecs chosen once.
#pragma once

#include <nanobind/nanobind.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "pg_codecs.h"

namespace fa::py::pg {

// The columns of a result: names (shared by every Record) and a decoder per column.
struct RowShape {
  nanobind::object keys;   // tuple[str, ...]
  nanobind::object index;  // dict[str, int]; the first of duplicate names wins
  std::vector<Decoder> decoders;
  std::vector<uint32_t> oids;
  std::vector<int16_t> formats;  // result format per column: 1 binary, 0 text (no binary codec)
  std::vector<nanobind::object> user_decoders;  // per column: decoder(str) from set_type_codec, or unset
};

// User codecs registered with set_type_codec: text format, encoder(value) -> str, decoder(str).
struct UserCodec {
  nanobind::object encoder;
  nanobind::object decoder;
};

struct Statement {
  std::string name;  // server-side name ("" = unnamed)
  std::string sql;
  std::vector<uint32_t> param_oids;
  std::vector<int16_t> param_formats;
  std::vector<Encoder> encoders;  // nullptr = sent as text (str(value) or a user encoder)
  std::vector<nanobind::object> user_encoders;  // per parameter, or unset
  RowShape columns;
  bool has_rows = false;  // false when the statement returns NoData (INSERT without RETURNING, ...)
  bool may_copy_in = false;  // the SQL mentions STDIN: it may start COPY FROM STDIN (see Core)
};

}  // namespace fa::py::pg
