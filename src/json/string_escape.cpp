// JSON string escaping (see string_escape.h). SSE2 is part of x86-64's baseline, so the
// 16-byte scan needs no run-time dispatch.
#include "json/string_escape.h"

#include <array>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fa::json {
namespace {

struct Escape {
  std::uint8_t len;  // 0: the byte is written as is
  char text[7];
};

constexpr std::array<Escape, 256> make_escape_table() {
  std::array<Escape, 256> t{};
  constexpr char kHex[] = "0123456789abcdef";
  for (int c = 0; c < 0x20; ++c) {
    t[c] = Escape{6, {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15], 0}};
  }
  t['\b'] = Escape{2, {'\\', 'b'}};
  t['\f'] = Escape{2, {'\\', 'f'}};
  t['\n'] = Escape{2, {'\\', 'n'}};
  t['\r'] = Escape{2, {'\\', 'r'}};
  t['\t'] = Escape{2, {'\\', 't'}};
  t['"'] = Escape{2, {'\\', '"'}};
  t['\\'] = Escape{2, {'\\', '\\'}};
  return t;
}

constexpr std::array<Escape, 256> kEscapes = make_escape_table();

// Longest escape sequence: \u00XX.
constexpr std::size_t kMaxEscapeBytes = 6;

}  // namespace

const char* find_escape(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i max_control = _mm_set1_epi8(0x1f);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    // Unsigned v <= 0x1f exactly when min(v, 0x1f) == v.
    hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_min_epu8(v, max_control), v));
    if (int mask = _mm_movemask_epi8(hit)) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && kEscapes[static_cast<std::uint8_t>(*p)].len == 0) ++p;
  return p;
}

void append_json_string(OutputBuffer& out, std::string_view utf8) {
  const char* p = utf8.data();
  const char* end = p + utf8.size();
  out.ensure(utf8.size() + 2);  // the common case, nothing to escape, needs no second grow
  out.put('"');
  for (;;) {
    const char* stop = find_escape(p, end);
    out.write(p, static_cast<std::size_t>(stop - p));
    if (stop == end) break;
    const Escape& e = kEscapes[static_cast<std::uint8_t>(*stop)];
    char* w = out.ensure(kMaxEscapeBytes);
    for (std::size_t i = 0; i < kMaxEscapeBytes; ++i) w[i] = e.text[i];  // fixed-size copy
    out.advance(e.len);
    p = stop + 1;
  }
  out.put('"');
}

}  // namespace fa::json
