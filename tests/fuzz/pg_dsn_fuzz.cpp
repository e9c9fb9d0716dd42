// libFuzzer target: arbitrary text through fa::pg::parse_dsn (refusals are std::invalid_argument).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "pg/pg_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    fa::pg::Config c = fa::pg::parse_dsn(in);
    if (c.port == 0) __builtin_trap();  // parse_dsn promises 1..65535
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
