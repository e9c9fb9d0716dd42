// The portable head scanner: table-driven byte loops, used when the CPU has no SSE4.2.
#include <cstring>

#include "http/h1_scan.h"

namespace fa::http::detail::scalar {

#define FA_H1_TARGET

static inline const char* find_in_table(const char* p, const char* end,
                                        const std::array<bool, 256>& stop) {
  auto hit = [&](const char* q) { return stop[static_cast<unsigned char>(*q)]; };
  while (end - p >= 4) {
    if (hit(p)) return p;
    if (hit(p + 1)) return p + 1;
    if (hit(p + 2)) return p + 2;
    if (hit(p + 3)) return p + 3;
    p += 4;
  }
  while (p < end && !hit(p)) ++p;
  return p;
}

static inline const char* find_target_end(const char* p, const char* end, const char*& mark) {
  for (; p < end && !kTargetStop[static_cast<unsigned char>(*p)]; ++p) {
    if (mark == nullptr && (*p == '?' || *p == '#')) mark = p;
  }
  return p;
}

static inline const char* find_value_end(const char* p, const char* end) {
  return find_in_table(p, end, kValueStop);
}

static inline const char* find_name_end(const char* p, const char* end) {
  return skip_token(p, end);
}

static inline bool host_chars_ok(std::string_view v, const char* /*lo*/, const char* /*end*/) {
  return host_chars_ok_scalar(v);
}

// Header-line scanning for the impl: plain forward scans.
struct Cursor {
  Cursor(const char* /*lo*/, const char* /*p*/, const char* end) : end_(end) {}
  const char* name_end(const char* q) const { return skip_token(q, end_); }
  const char* value_end(const char* /*line*/, const char* q) const {
    return find_value_end(q, end_);
  }
  const char* end_;
};

#include "http/h1_scan_impl.h"

#undef FA_H1_TARGET

}  // namespace fa::http::detail::scalar
