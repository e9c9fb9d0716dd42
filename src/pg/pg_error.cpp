// ServerError: ErrorResponse fields (§55.8) kept by their one-byte codes.
#include "pg/pg_error.h"

#include "pg/backend.h"

namespace fa::pg {

namespace {
std::string describe(const ServerError::Fields& fields) {
  std::string_view severity, code, message;
  for (const auto& [k, v] : fields) {
    if (k == 'V' || (k == 'S' && severity.empty())) severity = v;  // 'V' is never localized
    if (k == 'C') code = v;
    if (k == 'M') message = v;
  }
  std::string s(severity.empty() ? "ERROR" : severity);
  s.append(": ").append(message);
  if (!code.empty()) s.append(" (SQLSTATE ").append(code).append(")");
  return s;
}
}  // namespace

ServerError::ServerError(Fields fields)
    : std::runtime_error(describe(fields)), fields_(std::move(fields)) {
  for (const auto& [k, v] : fields_) {
    if (k == 'C') sqlstate_ = v;
    if (k == 'M') message_ = v;
  }
}

ServerError ServerError::from_body(std::string_view body) {
  std::vector<std::pair<char, std::string_view>> views;
  Fields fields;
  if (!parse_error_fields(body, views)) {
    fields.emplace_back('C', "XX000");  // internal_error: we could not read the server's fields
    fields.emplace_back('M', "malformed ErrorResponse from server");
    return ServerError(std::move(fields));
  }
  fields.reserve(views.size());
  for (auto& [k, v] : views) fields.emplace_back(k, std::string(v));
  return ServerError(std::move(fields));
}

std::string_view ServerError::field(char code) const noexcept {
  for (const auto& [k, v] : fields_)
    if (k == code) return v;
  return {};
}

bool ServerError::fatal() const noexcept {
  std::string_view s = field('V');
  if (s.empty()) s = field('S');
  return s == "FATAL" || s == "PANIC";
}

}  // namespace fa::pg
