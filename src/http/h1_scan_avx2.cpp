// The AVX2 head scanner: 32 bytes per step, then one 16-byte step, then bytes. Chosen at run
// time; nothing here runs unless the CPU reports AVX2.
#include <immintrin.h>

#include <cstring>

#include "http/h1_scan.h"

namespace fa::http::detail::avx2 {

#define FA_H1_TARGET __attribute__((target("avx2")))

// First byte at or past p that is <= `kCtlMax` (except HTAB when kAllowTab) or DEL.
template <unsigned char kCtlMax, bool kAllowTab>
FA_H1_TARGET static inline const char* find_stop(const char* p, const char* end,
                                                 const std::array<bool, 256>& table) {
  const __m256i ctl_max = _mm256_set1_epi8(static_cast<char>(kCtlMax));
  const __m256i del = _mm256_set1_epi8(0x7f);
  const __m256i tab = _mm256_set1_epi8('\t');
  while (end - p >= 32) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(x, ctl_max), x);  // x <= kCtlMax (unsigned)
    if (kAllowTab) ctl = _mm256_andnot_si256(_mm256_cmpeq_epi8(x, tab), ctl);
    const unsigned mask =
        static_cast<unsigned>(_mm256_movemask_epi8(_mm256_or_si256(ctl, _mm256_cmpeq_epi8(x, del))));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 32;
  }
  if (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm256_castsi256_si128(ctl_max)), x);
    if (kAllowTab) ctl = _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm256_castsi256_si128(tab)), ctl);
    const unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(x, _mm256_castsi256_si128(del)))));
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

}  // namespace fa::http::detail::avx2
