// The AVX2 head scanner: 32 bytes per step, then one 16-byte step, then bytes. Chosen at run
// time; nothing here runs unless the CPU reports AVX2.
#include <immintrin.h>

#include <cstring>
#include <utility>

#include "http/h1_scan.h"

namespace fa::http::detail::avx2 {

#define FA_H1_TARGET __attribute__((target("avx2")))

// Bits of '?' and '#' in `m` that come before the first bit of `stop` (all if stop == 0).
static inline unsigned marks_before(unsigned m, unsigned stop) {
  return stop == 0 ? m : m & ((stop & (0U - stop)) - 1);
}

// First byte at or past p that is <= SP or DEL (the end of a request-target); `mark` is set to
// the first '?' or '#' before it, if there is one and it is still null.
FA_H1_TARGET static inline const char* find_target_end(const char* p, const char* end,
                                                       const char*& mark) {
  const __m256i sp = _mm256_set1_epi8(0x20);
  const __m256i del = _mm256_set1_epi8(0x7f);
  const __m256i qm = _mm256_set1_epi8('?');
  const __m256i hash = _mm256_set1_epi8('#');
  while (end - p >= 32) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(x, sp), x);  // x <= SP (unsigned)
    const unsigned stop = static_cast<unsigned>(
        _mm256_movemask_epi8(_mm256_or_si256(ctl, _mm256_cmpeq_epi8(x, del))));
    if (mark == nullptr) {
      const unsigned m = marks_before(static_cast<unsigned>(_mm256_movemask_epi8(_mm256_or_si256(
                                          _mm256_cmpeq_epi8(x, qm), _mm256_cmpeq_epi8(x, hash)))),
                                      stop);
      if (m != 0) mark = p + __builtin_ctz(m);
    }
    if (stop != 0) return p + __builtin_ctz(stop);
    p += 32;
  }
  for (; p < end && !kTargetStop[static_cast<unsigned char>(*p)]; ++p) {
    if (mark == nullptr && (*p == '?' || *p == '#')) mark = p;
  }
  return p;
}

// A 16-entry nibble table in both lanes, as a vector constant (folded at compile time).
template <size_t... I>
FA_H1_TARGET static inline __m256i nibble_lut(const std::array<uint8_t, 16>& t,
                                              std::index_sequence<I...> /*unused*/) {
  return _mm256_setr_epi8(static_cast<char>(t[I % 16])...);
}
FA_H1_TARGET static inline __m256i token_lo_lut() {
  return nibble_lut(kTokenLoNibble, std::make_index_sequence<32>());
}
FA_H1_TARGET static inline __m256i hi_bit_lut() {
  return nibble_lut(kHiNibbleBit, std::make_index_sequence<32>());
}

// First byte at or past p that is not a tchar: pshufb nibble lookup (see kTokenLoNibble).
FA_H1_TARGET static inline const char* find_name_end(const char* p, const char* end) {
  const __m256i lo_lut = token_lo_lut();
  const __m256i hi_lut = hi_bit_lut();
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  while (end - p >= 32) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i lo = _mm256_shuffle_epi8(lo_lut, _mm256_and_si256(x, nibble));
    const __m256i hi =
        _mm256_shuffle_epi8(hi_lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble));
    const __m256i non_token = _mm256_cmpeq_epi8(_mm256_and_si256(lo, hi), _mm256_setzero_si256());
    const unsigned mask = static_cast<unsigned>(_mm256_movemask_epi8(non_token));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 32;
  }
  return skip_token(p, end);
}

// Bit i of the results: p[i] is a value stop / is not a tchar, for 32 bytes at p.
FA_H1_TARGET static inline void classify32(const char* p, uint32_t& stop, uint32_t& nontoken) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i ctl =
      _mm256_andnot_si256(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('\t')),
                          _mm256_cmpeq_epi8(_mm256_min_epu8(x, _mm256_set1_epi8(0x1f)), x));
  stop = static_cast<uint32_t>(
      _mm256_movemask_epi8(_mm256_or_si256(ctl, _mm256_cmpeq_epi8(x, _mm256_set1_epi8(0x7f)))));
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_shuffle_epi8(token_lo_lut(), _mm256_and_si256(x, nibble));
  const __m256i hi =
      _mm256_shuffle_epi8(hi_bit_lut(), _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble));
  nontoken = static_cast<uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(lo, hi), _mm256_setzero_si256())));
}

// True if every byte of v may appear in a Host field: one nibble-table check of the 32 readable
// bytes [lo, end) around v when v is at most 32 bytes, else byte by byte.
FA_H1_TARGET static inline bool host_chars_ok(std::string_view v, const char* lo, const char* end) {
  if (v.size() > 32 || end - lo < 32) return host_chars_ok_scalar(v);
  const char* const at = end - v.data() >= 32 ? v.data() : end - 32;
  const unsigned shift = static_cast<unsigned>(v.data() - at);
  const __m256i lo_lut = nibble_lut(kHostLoNibble, std::make_index_sequence<32>());
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i lo_bits = _mm256_shuffle_epi8(lo_lut, _mm256_and_si256(x, nibble));
  const __m256i hi_bits =
      _mm256_shuffle_epi8(hi_bit_lut(), _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble));
  const uint64_t bad = static_cast<uint32_t>(_mm256_movemask_epi8(
      _mm256_cmpeq_epi8(_mm256_and_si256(lo_bits, hi_bits), _mm256_setzero_si256())));
  const uint64_t in_value = ((uint64_t{1} << v.size()) - 1) << shift;
  return (bad & in_value) == 0;
}

// Header-line scanning for the impl: classifies 64 bytes at a time into two bitmasks (value
// stops; non-tchar bytes) so each query is a shift and a count-trailing-zeros. Positions past
// `end` read as stops, so a query that runs out returns exactly `end`.
struct Cursor {
  FA_H1_TARGET Cursor(const char* lo, const char* p, const char* end) : lo_(lo), end_(end) {
    load(p);
  }

  FA_H1_TARGET const char* name_end(const char* q) { return next<&Cursor::nontoken_>(q); }
  FA_H1_TARGET const char* value_end(const char* line, const char* /*q*/) {
    return next<&Cursor::stop_>(line);
  }

 private:
  template <uint64_t Cursor::*kMask>
  FA_H1_TARGET const char* next(const char* q) {
    for (;;) {
      const size_t off = static_cast<size_t>(q - base_);
      if (off < 64) {
        const uint64_t m = (this->*kMask) >> off;
        if (m != 0) return q + __builtin_ctzll(m);
        q = base_ + 64;
      }
      if (q >= end_) return end_;
      load(q);
    }
  }

  FA_H1_TARGET void classify64(const char* p) {
    uint32_t s0, n0, s1, n1;
    classify32(p, s0, n0);
    classify32(p + 32, s1, n1);
    stop_ = s0 | (uint64_t{s1} << 32);
    nontoken_ = n0 | (uint64_t{n1} << 32);
  }

  FA_H1_TARGET __attribute__((always_inline)) void load(const char* b) {
    base_ = b;
    const size_t avail = static_cast<size_t>(end_ - b);
    if (avail >= 64) {
      classify64(b);
      return;
    }
    if (avail == 0) {  // at the end already: every position is past it
      stop_ = ~uint64_t{0};
      nontoken_ = ~uint64_t{0};
      return;
    }
    if (end_ - lo_ >= 64) {  // re-read the last 64 readable bytes and shift them into place
      classify64(end_ - 64);
      stop_ >>= 64 - avail;
      nontoken_ >>= 64 - avail;
    } else if (avail > 32) {  // b[0, 32) directly, the rest from the last 32 bytes, shifted
      uint32_t s0, n0, s1, n1;
      classify32(b, s0, n0);
      classify32(end_ - 32, s1, n1);
      stop_ = s0 | (uint64_t{s1 >> (64 - avail)} << 32);
      nontoken_ = n0 | (uint64_t{n1 >> (64 - avail)} << 32);
    } else if (end_ - lo_ >= 32) {  // the last 32 readable bytes, shifted into place
      uint32_t s1, n1;
      classify32(end_ - 32, s1, n1);
      stop_ = s1 >> (32 - avail);
      nontoken_ = n1 >> (32 - avail);
    } else {  // a buffer shorter than 32 bytes: classify byte by byte (no copy, no over-read)
      stop_ = 0;
      nontoken_ = 0;
      for (size_t i = 0; i < avail; ++i) {
        const unsigned char c = static_cast<unsigned char>(b[i]);
        stop_ |= uint64_t{kValueStop[c]} << i;
        nontoken_ |= uint64_t{!kTokenChar[c]} << i;
      }
    }
    const uint64_t past_end = ~uint64_t{0} << avail;  // 0 < avail < 64
    stop_ |= past_end;
    nontoken_ |= past_end;
  }

  const char* lo_;
  const char* end_;
  const char* base_ = nullptr;
  uint64_t stop_ = 0;      // bit i: base_[i] ends a field value (CTL but HTAB, DEL)
  uint64_t nontoken_ = 0;  // bit i: base_[i] is not a tchar
};

#include "http/h1_scan_impl.h"

#undef FA_H1_TARGET

}  // namespace fa::http::detail::avx2
