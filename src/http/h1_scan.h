// Internals of the HTTP/1.1 head parser: character-class tables, field-value semantics and the
// per-ISA head scanners (h1_scan_{scalar,sse42,avx2}.cpp) that RequestParser dispatches to.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
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

inline bool is_token(char c) { return kTokenChar[static_cast<unsigned char>(c)]; }

// ASCII case-insensitive equality of a token against a lower-case literal of the same length.
// Safe for tokens: c | 0x20 equals a lower-case letter only for that letter's two cases, and
// equals '-' only for '-' or CR (never in a token).
inline bool token_ieq(const char* p, std::string_view lower) {
  for (size_t i = 0; i < lower.size(); ++i) {
    if ((static_cast<unsigned char>(p[i]) | 0x20) != static_cast<unsigned char>(lower[i])) return false;
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

// Each returns 0 when the field is acceptable, or sets `err` and returns kError.
int on_content_length(std::string_view value, FieldState& st, ParseError& err);
int on_transfer_encoding(std::string_view value, FieldState& st, ParseError& err);
int on_host(std::string_view value, FieldState& st, ParseError& err);
void on_connection(std::string_view value, FieldState& st);
void on_expect(std::string_view value, FieldState& st);

// Applies RFC 9112 §3.2, §6.1, §6.3 and §9.3 to the gathered fields and fills the semantic
// members of `out`. Returns 0, or sets `err` and returns kError.
int finish_head(const FieldState& st, const ParserLimits& limits, RequestHead& out, ParseError& err);

// Records a parse error; returns kError so callers can `return fail(...)`.
inline int fail(ParseError& err, int status, std::string_view reason) {
  err.status = status;
  err.reason = reason;
  return kError;
}

// Per-ISA head scanners, all with the ParseHeadFn contract (see h1_scan_impl.h).
namespace scalar {
int parse_head(const char* buf, size_t len, const ParserLimits& limits, RequestHead& out, ParseError& err);
}
namespace sse42 {
int parse_head(const char* buf, size_t len, const ParserLimits& limits, RequestHead& out, ParseError& err);
}
namespace avx2 {
int parse_head(const char* buf, size_t len, const ParserLimits& limits, RequestHead& out, ParseError& err);
}

}  // namespace fa::http::detail
