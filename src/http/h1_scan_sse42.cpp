// The SSE4.2-level head scanner: 16 bytes per step (SSE2 compares; the CPU check is for 4.2 so
// this path and picohttpparser's SSE4.2 path are gated alike). Chosen at run time.
#include <immintrin.h>

#include <cstring>

#include "http/h1_scan.h"

namespace fa::http::detail::sse42 {

#define FA_H1_TARGET __attribute__((target("sse4.2")))

// First byte at or past p that is <= `ctl_max` (except HTAB when allow_tab) or DEL.
template <unsigned char kCtlMax, bool kAllowTab>
FA_H1_TARGET static inline const char* find_stop(const char* p, const char* end,
                                                 const std::array<bool, 256>& table) {
  const __m128i ctl_max = _mm_set1_epi8(static_cast<char>(kCtlMax));
  const __m128i del = _mm_set1_epi8(0x7f);
  const __m128i tab = _mm_set1_epi8('\t');
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, ctl_max), x);  // x <= kCtlMax (unsigned)
    if (kAllowTab) ctl = _mm_andnot_si128(_mm_cmpeq_epi8(x, tab), ctl);
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(x, del))));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
  while (p < end && !table[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

FA_H1_TARGET static inline const char* find_target_end(const char* p, const char* end) {
  return find_stop<0x20, false>(p, end, kTargetStop);
}

FA_H1_TARGET static inline const char* find_value_end(const char* p, const char* end) {
  return find_stop<0x1f, true>(p, end, kValueStop);
}

#include "http/h1_scan_impl.h"

#undef FA_H1_TARGET

}  // namespace fa::http::detail::sse42
