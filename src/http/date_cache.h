// DateCache: the IMF-fixdate for the `Date` header (RFC 9110 §6.6.1), formatted at most once
// per second.
#pragma once

#include <ctime>
#include <string_view>

namespace fa::http {

class DateCache {
 public:
  DateCache() { refresh(); }
  // Re-formats if the wall-clock second changed. Cheap: one time() call.
  void refresh();
  // "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
  std::string_view header_line() const { return {line_, kLineLen}; }

 private:
  static constexpr size_t kLineLen = 37;  // "Date: " + 29-char IMF-fixdate + CRLF
  std::time_t last_ = 0;
  char line_[kLineLen + 8] = {};  // room for snprintf's NUL and unlikely wide years
};

}  // namespace fa::http
