// Skipping over JSON text without parsing it (RFC 8259), for the per-call paths that only need
// the top level of a message they forward (the client's Correlator finding a response's id and
// result, the proxy dropping result members). skip_value: where a value ends, nested values
// matched by bracket depth with their strings and escapes followed, 16 bytes at a time with
// SSE2 where the target has it, nothing else checked (for text already checked). check_value:
// the same walk checking the grammar as it goes, for text from a peer. Nothing is read at or
// past `end`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fa::mcp::json_scan {

inline bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';  // RFC 8259 §2
}

inline const char* skip_ws(const char* p, const char* end) {
  // Compact text is the usual case: one compare says a byte above ' ' is no whitespace.
  if (p >= end || static_cast<unsigned char>(*p) > ' ') [[likely]]
    return p;
  while (p < end && is_ws(*p)) ++p;
  return p;
}

namespace detail {

// The bytes that end a number or literal: structural characters, a quote, whitespace.
inline constexpr auto kEndsScalar = [] {
  struct Table {
    bool v[256] = {};
    constexpr bool operator[](unsigned char c) const { return v[c]; }
  } t;
  for (unsigned char c : {',', '}', ']', ':', '{', '[', '"', ' ', '\t', '\n', '\r'}) t.v[c] = true;
  return t;
}();

}  // namespace detail

#if defined(__SSE2__)
namespace detail {

// 16 bytes from p; when fewer are left before `end`, the rest padded with spaces (no byte a
// scan looks for), so nothing past `end` is read.
inline __m128i load16(const char* p, const char* end) {
  if (end - p >= 16) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  alignas(16) char tail[16];
  std::memset(tail, ' ', sizeof tail);
  std::memcpy(tail, p, static_cast<size_t>(end - p));
  return _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
}

inline uint32_t mask_of(__m128i v, char c) {
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
}

}  // namespace detail
#endif

// Just past the string whose opening quote is at p; null when it is not closed before `end`.
// `escaped`, when given, is set when the string holds an escape.
inline const char* skip_string(const char* p, const char* end, bool* escaped = nullptr) {
  ++p;
#if defined(__SSE2__)
  while (p < end) {
    const __m128i v = detail::load16(p, end);
    const uint32_t m = detail::mask_of(v, '"') | detail::mask_of(v, '\\');
    if (!m) {
      p += 16;
      continue;
    }
    p += __builtin_ctz(m);
    if (*p == '"') return p + 1;
    if (escaped) *escaped = true;
    p += 2;  // a backslash and the character it escapes (§7)
  }
  return nullptr;
#else
  while (p < end) {
    if (*p == '"') return p + 1;
    if (*p == '\\') {
      if (escaped) *escaped = true;
      ++p;
    }
    ++p;
  }
  return nullptr;
#endif
}

// Just past the object or array whose opening bracket is at p; null when it is cut short.
inline const char* skip_container(const char* p, const char* end) {
  int depth = 0;
#if defined(__SSE2__)
  uint32_t in_string = 0;  // all ones when the previous block ended inside a string
  uint32_t escaped_in =
      0;  // 1 when the previous block's last backslash escapes this block's first byte
  const __m128i lower = _mm_set1_epi8(0x20);  // '[' | 0x20 == '{', ']' | 0x20 == '}'
  for (; p < end; p += 16) {
    const __m128i v = detail::load16(p, end);
    uint32_t quotes = detail::mask_of(v, '"');
    const uint32_t backslashes = detail::mask_of(v, '\\');
    if (backslashes | escaped_in) {
      // Each backslash not itself escaped escapes the next byte; an escaped quote ends nothing.
      uint32_t escaped = escaped_in, bits = backslashes & ~escaped_in;
      while (bits) {
        const uint32_t at = static_cast<uint32_t>(__builtin_ctz(bits));
        escaped |= 2u << at;
        bits &= ~(3u << at);
      }
      escaped_in = (escaped >> 16) & 1;
      quotes &= ~escaped;
    }
    // Inside a string: from its opening quote up to its closing one (prefix XOR of the quotes).
    uint32_t inside = quotes;
    inside ^= inside << 1;
    inside ^= inside << 2;
    inside ^= inside << 4;
    inside ^= inside << 8;
    inside = (inside ^ in_string) & 0xffff;
    in_string = (inside & 0x8000) ? 0xffff : 0;
    const __m128i folded = _mm_or_si128(v, lower);
    const uint32_t opens = detail::mask_of(folded, '{') & ~inside;
    uint32_t brackets = (opens | detail::mask_of(folded, '}')) & ~inside;
    while (brackets) {
      const int at = __builtin_ctz(brackets);
      if (opens & (1u << at)) {
        ++depth;
      } else if (--depth == 0) {
        return p + at + 1;
      }
      brackets &= brackets - 1;
    }
  }
  return nullptr;
#else
  while (p < end) {
    const char c = *p;
    if (c == '"') {
      p = skip_string(p, end);
      if (!p) return nullptr;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return p + 1;
    }
    ++p;
  }
  return nullptr;
#endif
}

// Just past the JSON value starting at p (no leading whitespace), null when it is cut short.
// A number or literal ends at the next structural character (§2: , : [ ] { }), quote,
// whitespace or `end`; its bytes are not checked. It may be empty (p itself is returned),
// which the caller treats as no value.
inline const char* skip_value(const char* p, const char* end) {
  if (p >= end) return nullptr;
  if (*p == '"') return skip_string(p, end);
  if (*p == '{' || *p == '[') return skip_container(p, end);
  while (p < end && !detail::kEndsScalar[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

namespace detail {

inline bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Just past the string whose opening quote is at p, null unless it is one as §7 says: closed,
// no control character (U+0000 to U+001F) unescaped, every escape one of the nine.
inline const char* check_string(const char* p, const char* end) {
  ++p;
  for (;;) {
#if defined(__SSE2__)
    if (p >= end) return nullptr;
    const __m128i v = load16(p, end);
    const __m128i control =
        _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
    const uint32_t m =
        mask_of(v, '"') | mask_of(v, '\\') | static_cast<uint32_t>(_mm_movemask_epi8(control));
    if (!m) {
      p += 16;
      continue;
    }
    p += __builtin_ctz(m);
#else
    while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
    if (p >= end) return nullptr;
#endif
    if (*p == '"') return p + 1;
    if (*p != '\\' || end - p < 2) return nullptr;  // a control character, or cut short
    switch (p[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        p += 2;
        break;
      case 'u':
        if (end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5]))
          return nullptr;
        p += 6;
        break;
      default:
        return nullptr;
    }
  }
}

// Just past the number at p, null unless it is one as §6 says:
// -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
inline const char* check_number(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p >= end || !is_digit(*p)) return nullptr;
  if (*p == '0') {
    ++p;
  } else {
    while (p < end && is_digit(*p)) ++p;
  }
  if (p < end && *p == '.') {
    if (++p >= end || !is_digit(*p)) return nullptr;
    while (p < end && is_digit(*p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    if (++p < end && (*p == '+' || *p == '-')) ++p;
    if (p >= end || !is_digit(*p)) return nullptr;
    while (p < end && is_digit(*p)) ++p;
  }
  return p;
}

inline const char* check_literal(const char* p, const char* end, std::string_view word) {
  if (static_cast<size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()))
    return nullptr;
  return p + word.size();
}

}  // namespace detail

// Containers nested deeper than this are not checked here (check_value gives up): well below
// the parsers' limits (simdjson: 1024).
inline constexpr int kMaxCheckedDepth = 256;

// Just past the JSON value starting at p (no leading whitespace), null unless it is valid
// RFC 8259 JSON (§2-§7: the grammar, numbers, literals, strings and their escapes) nested at
// most kMaxCheckedDepth deep. UTF-8 is not checked here (see is_ascii). What a full parser
// accepts too; forwarded answers are checked this way instead of being parsed.
inline const char* check_value(const char* p, const char* end) {
  char closers[kMaxCheckedDepth];  // the bracket that closes each open container
  int depth = 0;
  // Where whitespace may stand, compact text needs one compare: a byte above ' ' is none.
  auto ws = [end](const char* q) {
    return q < end && static_cast<unsigned char>(*q) <= ' ' ? skip_ws(q, end) : q;
  };
value:
  if (p >= end) return nullptr;
  switch (*p) {
    case '{':
    case '[': {
      if (depth == kMaxCheckedDepth) return nullptr;
      const bool object = *p == '{';
      closers[depth++] = object ? '}' : ']';
      p = ws(p + 1);
      if (p < end && *p == closers[depth - 1]) {
        ++p;
        --depth;
        goto after;
      }
      if (object) goto key;
      goto value;
    }
    case '"':
      p = detail::check_string(p, end);
      break;
    case 't':
      p = detail::check_literal(p, end, "true");
      break;
    case 'f':
      p = detail::check_literal(p, end, "false");
      break;
    case 'n':
      p = detail::check_literal(p, end, "null");
      break;
    default:
      p = detail::check_number(p, end);
      break;
  }
  if (!p) return nullptr;
after:
  if (depth == 0) return p;
  p = ws(p);
  if (p >= end) return nullptr;
  if (*p == ',') {
    p = ws(p + 1);
    if (closers[depth - 1] == ']') goto value;
    goto key;
  }
  if (*p != closers[depth - 1]) return nullptr;
  ++p;
  --depth;
  goto after;
key:
  if (p >= end || *p != '"' || !(p = detail::check_string(p, end))) return nullptr;
  p = ws(p);
  if (p >= end || *p != ':') return nullptr;
  p = ws(p + 1);
  goto value;
}

// True when every byte is ASCII (then the text is valid UTF-8 without a closer look).
inline bool is_ascii(std::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
#if defined(__SSE2__)
  __m128i any = _mm_setzero_si128();
  for (; end - p >= 16; p += 16)
    any = _mm_or_si128(any, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  if (_mm_movemask_epi8(any)) return false;
#endif
  for (; p < end; ++p)
    if (static_cast<unsigned char>(*p) >= 0x80) return false;
  return true;
}

}  // namespace fa::mcp::json_scan
