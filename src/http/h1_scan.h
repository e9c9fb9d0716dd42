// Internals of the HTTP/1.1 head parser: character-class tables, field-value semantics and the
// per-ISA head scanners (h1_scan_{scalar,sse42,avx2}.cpp) that RequestParser dispatches to.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "http/h1_parser.h"

namespace fa::http::detail {

// tchar (RFC 9110 §5.6.2): "!#$%&'*+-.^_`|~" / DIGIT / ALPHA.
constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> kTokenChar = make_token_table();

// Bytes that end a field value (RFC 9110 §5.5): CTLs other than HTAB, and DEL. obs-text passes.
constexpr std::array<bool, 256> make_value_stop_table() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = c != '\t';
  t[0x7f] = true;
  return t;
}
inline constexpr std::array<bool, 256> kValueStop = make_value_stop_table();

// Bytes that end a request-target: SP, CTLs and DEL.
constexpr std::array<bool, 256> make_target_stop_table() {
  std::array<bool, 256> t{};
  for (int c = 0; c <= 0x20; ++c) t[c] = true;
  t[0x7f] = true;
  return t;
}
inline constexpr std::array<bool, 256> kTargetStop = make_target_stop_table();

// Nibble tables for SIMD token classification (pshufb): byte b is a tchar iff
// kTokenLoNibble[b & 15] & kHiNibbleBit[b >> 4] != 0. Bytes >= 0x80 map to bit 0 (never tchar).
constexpr std::array<uint8_t, 16> make_lo_nibble(const std::array<bool, 256>& set) {
  std::array<uint8_t, 16> t{};
  for (int lo = 0; lo < 16; ++lo) {
    for (int hi = 0; hi < 8; ++hi) {
      if (set[hi * 16 + lo]) t[lo] = static_cast<uint8_t>(t[lo] | (1u << hi));
    }
  }
  return t;
}
inline constexpr std::array<uint8_t, 16> kTokenLoNibble = make_lo_nibble(kTokenChar);
inline constexpr std::array<uint8_t, 16> kHiNibbleBit = {1, 2, 4, 8, 16, 32, 64, 128,
                                                         0, 0, 0, 0, 0,  0,  0,  0};

inline bool is_token(char c) {
  return kTokenChar[static_cast<unsigned char>(c)];
}

// Scans tchar bytes one at a time; returns the first non-token byte or `end`.
inline const char* skip_token(const char* p, const char* end) {
  while (end - p >= 4) {
    if (!is_token(p[0])) return p;
    if (!is_token(p[1])) return p + 1;
    if (!is_token(p[2])) return p + 2;
    if (!is_token(p[3])) return p + 3;
    p += 4;
  }
  while (p < end && is_token(*p)) ++p;
  return p;
}

inline uint64_t load_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint32_t load_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// ASCII case-insensitive equality of p[0, lower.size()) against a lower-case literal made of
// letters, digits and '-'. OR-ing 0x20 into each input byte is exact for such literals on field
// bytes: c | 0x20 equals a lower-case letter only for that letter's two cases, and equals a
// digit or '-' only for it or a CTL (never inside a name or value). Compares 8 or 4 bytes at a
// time; literals are folded into immediates.
inline bool token_ieq(const char* p, std::string_view lower) {
  const size_t n = lower.size();
  const char* l = lower.data();
  if (n >= 8) {
    constexpr uint64_t k = 0x2020202020202020ULL;
    for (size_t i = 0; i + 8 < n; i += 8) {
      if ((load_u64(p + i) | k) != load_u64(l + i)) return false;
    }
    return (load_u64(p + n - 8) | k) == load_u64(l + n - 8);
  }
  if (n >= 4) {
    constexpr uint32_t k = 0x20202020U;
    return (load_u32(p) | k) == load_u32(l) && (load_u32(p + n - 4) | k) == load_u32(l + n - 4);
  }
  for (size_t i = 0; i < n; ++i) {
    if ((static_cast<unsigned char>(p[i]) | 0x20) != static_cast<unsigned char>(l[i])) return false;
  }
  return true;
}

// Header-field semantics gathered while scanning a head, resolved by finish_head().
struct FieldState {
  int host_count = 0;
  bool cl_seen = false;
  bool te_seen = false;
  bool te_chunked = false;        // "chunked" appeared
  bool te_last_chunked = false;   // the last transfer-coding seen so far is "chunked"
  bool te_chunked_twice = false;  // RFC 9112 §6.1: chunked MUST NOT be applied twice
  bool te_unknown = false;        // a coding we do not recognise (501)
  bool te_unsupported = false;    // a coding we recognise but do not decode (501)
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool conn_upgrade = false;
  bool upgrade_seen = false;
  bool expect_continue = false;
  uint64_t content_length = 0;
};

// Records a parse error; returns kError so callers can `return fail(...)`.
inline int fail(ParseError& err, int status, std::string_view reason) {
  err.status = status;
  err.reason = reason;
  return kError;
}

// Each returns 0 when the field is acceptable, or sets `err` and returns kError. These are the
// general cases (lists, odd spellings); the scanners call the inline fast paths below first.
int on_content_length(std::string_view value, FieldState& st, ParseError& err);
int on_transfer_encoding(std::string_view value, FieldState& st, ParseError& err);
void on_connection(std::string_view value, FieldState& st);
void on_expect(std::string_view value, FieldState& st);
// Resolves Transfer-Encoding framing (RFC 9112 §6.1, §6.3) into `out`; called when TE is present.
int finish_framing(const FieldState& st, const ParserLimits& limits, RequestHead& out,
                   ParseError& err);

// Host = uri-host [ ":" port ] (RFC 9110 §7.2): reg-name, IP-literal or IPv4 characters.
constexpr std::array<bool, 256> make_host_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("-._~!$&'()*+,;=:[]%")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> kHostChar = make_host_table();
inline constexpr std::array<uint8_t, 16> kHostLoNibble = make_lo_nibble(kHostChar);

// True if every byte of `value` may appear in a Host field (portable version).
inline bool host_chars_ok_scalar(std::string_view value) {
  bool ok = true;
  for (char c : value) ok &= kHostChar[static_cast<unsigned char>(c)];  // branch-free
  return ok;
}

inline int on_content_length_fast(std::string_view value, FieldState& st, ParseError& err) {
  // Plain 1*DIGIT of at most 18 digits (cannot overflow); anything else takes the general path.
  if (value.empty() || value.size() > 18) return on_content_length(value, st, err);
  uint64_t n = 0;
  for (char c : value) {
    const unsigned d = static_cast<unsigned char>(c) - unsigned{'0'};
    if (d > 9) return on_content_length(value, st, err);
    n = n * 10 + d;
  }
  if (st.cl_seen && st.content_length != n)
    return fail(err, 400, "differing Content-Length values");
  st.cl_seen = true;
  st.content_length = n;
  return 0;
}

inline void on_connection_fast(std::string_view value, FieldState& st) {
  if (value.size() == 10 && token_ieq(value.data(), "keep-alive")) {
    st.conn_keep_alive = true;
  } else if (value.size() == 5 && token_ieq(value.data(), "close")) {
    st.conn_close = true;
  } else {
    on_connection(value, st);
  }
}

// Applies RFC 9112 §3.2, §6.1, §6.3 and §9.3 to the gathered fields and fills the semantic
// members of `out`. Returns 0, or sets `err` and returns kError.
inline int finish_head(const FieldState& st, const ParserLimits& limits, RequestHead& out,
                       ParseError& err) {
  const bool http11 = out.version_minor == 1;
  if (http11 && st.host_count == 0) return fail(err, 400, "missing Host header");  // RFC 9112 §3.2
  out.chunked = false;
  out.content_length = -1;
  if (st.te_seen) {
    if (finish_framing(st, limits, out, err) != 0) return kError;
  } else if (st.cl_seen) {
    if (st.content_length > limits.max_body_bytes)
      return fail(err, 413, "Content-Length exceeds limit");
    out.content_length = static_cast<int64_t>(st.content_length);
  }
  // RFC 9112 §9.3: close wins; 1.1 persists by default; 1.0 only with keep-alive.
  out.keep_alive = !st.conn_close && (http11 || st.conn_keep_alive);
  out.upgrade = st.conn_upgrade && st.upgrade_seen;
  // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request MUST be ignored.
  out.expect_continue = http11 && st.expect_continue;
  return 0;
}

// Per-ISA head scanners, all with the ParseHeadFn contract (see h1_scan_impl.h).
namespace scalar {
int parse_head(const char* buf, size_t len, const ParserLimits& limits, RequestHead& out,
               ParseError& err);
}
namespace sse42 {
int parse_head(const char* buf, size_t len, const ParserLimits& limits, RequestHead& out,
               ParseError& err);
}
namespace avx2 {
int parse_head(const char* buf, size_t len, const ParserLimits& limits, RequestHead& out,
               ParseError& err);
}

}  // namespace fa::http::detail
