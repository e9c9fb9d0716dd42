// Errors of the C++ client (Connection, Pool): a server ErrorResponse and a lost connection.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fa::pg {

// A server ErrorResponse (protocol §55.8): SQLSTATE, message and every other field by its code.
// The connection stays usable after one (unless it was FATAL, which the server follows by EOF).
class ServerError : public std::runtime_error {
 public:
  using Fields = std::vector<std::pair<char, std::string>>;
  explicit ServerError(Fields fields);
  // Builds one from an ErrorResponse body; a malformed body still gives an error (SQLSTATE XX000).
  static ServerError from_body(std::string_view body);

  const std::string& sqlstate() const noexcept { return sqlstate_; }  // 'C', e.g. "42601"
  const std::string& message() const noexcept { return message_; }    // 'M'
  // The field with this code ('D' detail, 'H' hint, 'P' position, 'n' constraint...), or "".
  std::string_view field(char code) const noexcept;
  const Fields& fields() const noexcept { return fields_; }
  // Severity FATAL or PANIC: the server ends the session after it.
  bool fatal() const noexcept;

 private:
  Fields fields_;
  std::string sqlstate_;
  std::string message_;
};

// The connection was refused, lost or closed: the query's outcome on the server is unknown.
// A connection that raised this is never used again (the pool drops it).
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A value was read as a C++ type it cannot be (a NULL as int, a text column as int, ...).
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace fa::pg
