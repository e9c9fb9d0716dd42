// DateCache implementation.
#include "http/date_cache.h"

#include <cstdio>

namespace fa::http {

void DateCache::refresh() {
  std::time_t now = std::time(nullptr);
  if (now == last_) return;
  last_ = now;
  std::tm tm{};
  gmtime_r(&now, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::snprintf(line_, sizeof line_, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
}

}  // namespace fa::http
