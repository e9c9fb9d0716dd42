// Status-line table: built once, indexed by code.
#include "http/status.h"

#include <array>
#include <string>

namespace fa::http {

namespace {

struct StatusTable {
  std::array<std::string, 1000> lines;
  std::array<std::string_view, 1000> reasons{};
  StatusTable() {
#define FA_STATUS(code, text) reasons[code] = text;
#include "http/status_table.inc"
#undef FA_STATUS
    for (int c = 100; c < 1000; ++c) {
      lines[c] = "HTTP/1.1 " + std::to_string(c) + " " + std::string(reasons[c]) + "\r\n";
    }
  }
};

const StatusTable& table() {
  static const StatusTable t;
  return t;
}

}  // namespace

std::string_view status_line(int code) {
  if (code < 100 || code > 999) code = 500;
  return table().lines[code];
}

std::string_view reason_phrase(int code) {
  if (code < 100 || code > 999) return {};
  return table().reasons[code];
}

}  // namespace fa::http
