// Header-field semantics for the HTTP/1.1 head parser: Content-Length, Transfer-Encoding, Host,
// Connection and Expect (RFC 9110 §5.6.1, §7.2, §7.6.1, §8.6, §10.1.1; RFC 9112 §3.2, §6, §9.3).
#include <cstdint>
#include <string_view>

#include "http/h1_scan.h"

namespace fa::http::detail {
namespace {

constexpr uint64_t kContentLengthCap = 1'000'000'000'000'000'000ULL;  // bytes; larger saturates

// Calls fn(element) for each non-empty element of a #list (RFC 9110 §5.6.1), OWS trimmed.
template <class Fn>
void for_each_element(std::string_view v, Fn&& fn) {
  size_t i = 0;
  while (i <= v.size()) {
    size_t j = v.find(',', i);
    if (j == std::string_view::npos) j = v.size();
    size_t b = i, e = j;
    while (b < e && (v[b] == ' ' || v[b] == '\t')) ++b;
    while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t')) --e;
    if (b < e && !fn(v.substr(b, e - b))) return;
    i = j + 1;
  }
}

bool ieq(std::string_view a, std::string_view lower) {
  return a.size() == lower.size() && token_ieq(a.data(), lower);
}

}  // namespace

int on_content_length(std::string_view value, FieldState& st, ParseError& err) {
  // RFC 9110 §8.6: 1*DIGIT; RFC 9112 §6.3 rule 5: a list of identical values may be accepted.
  bool ok = true;
  bool any = false;
  uint64_t first = 0;
  for (size_t i = 0; i <= value.size() && ok;) {
    size_t j = value.find(',', i);
    if (j == std::string_view::npos) j = value.size();
    size_t b = i, e = j;
    while (b < e && (value[b] == ' ' || value[b] == '\t')) ++b;
    while (e > b && (value[e - 1] == ' ' || value[e - 1] == '\t')) --e;
    if (b == e) {
      ok = false;
      break;
    }
    uint64_t n = 0;
    for (size_t k = b; k < e; ++k) {
      const char c = value[k];
      if (c < '0' || c > '9') {
        ok = false;
        break;
      }
      n = n >= kContentLengthCap ? kContentLengthCap : n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!ok) break;
    if (any && n != first) return fail(err, 400, "differing Content-Length values");
    first = n;
    any = true;
    i = j + 1;
  }
  if (!ok || !any) return fail(err, 400, "invalid Content-Length");
  if (st.cl_seen && st.content_length != first)
    return fail(err, 400, "differing Content-Length values");
  st.cl_seen = true;
  st.content_length = first;
  return 0;
}

int on_transfer_encoding(std::string_view value, FieldState& st, ParseError& err) {
  // transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9112 §6.1, RFC 9110 §10.1.4).
  bool bad = false;
  bool any = false;
  for_each_element(value, [&](std::string_view el) {
    size_t k = 0;
    while (k < el.size() && is_token(el[k])) ++k;
    const std::string_view coding = el.substr(0, k);
    size_t r = k;
    while (r < el.size() && (el[r] == ' ' || el[r] == '\t')) ++r;
    if (coding.empty() || (r < el.size() && el[r] != ';')) {
      bad = true;
      return false;
    }
    any = true;
    const bool params = r < el.size();
    if (ieq(coding, "chunked") && !params) {
      if (st.te_chunked) st.te_chunked_twice = true;
      st.te_chunked = true;
      st.te_last_chunked = true;
      return true;
    }
    st.te_last_chunked = false;
    if (!params && (ieq(coding, "gzip") || ieq(coding, "x-gzip") || ieq(coding, "deflate") ||
                    ieq(coding, "compress") || ieq(coding, "x-compress"))) {
      st.te_unsupported = true;
    } else {
      st.te_unknown = true;
    }
    return true;
  });
  if (bad || !any) return fail(err, 400, "invalid Transfer-Encoding");
  st.te_seen = true;
  return 0;
}

void on_connection(std::string_view value, FieldState& st) {
  // Connection = #connection-option (RFC 9110 §7.6.1); options are case-insensitive tokens.
  for_each_element(value, [&](std::string_view el) {
    if (ieq(el, "close"))
      st.conn_close = true;
    else if (ieq(el, "keep-alive"))
      st.conn_keep_alive = true;
    else if (ieq(el, "upgrade"))
      st.conn_upgrade = true;
    return true;
  });
}

void on_expect(std::string_view value, FieldState& st) {
  // RFC 9110 §10.1.1: the only expectation defined is "100-continue" (case-insensitive).
  for_each_element(value, [&](std::string_view el) {
    if (ieq(el, "100-continue")) st.expect_continue = true;
    return true;
  });
}

int finish_framing(const FieldState& st, const ParserLimits& /*limits*/, RequestHead& out,
                   ParseError& err) {
  if (st.te_seen) {
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
    if (out.version_minor != 1) return fail(err, 400, "Transfer-Encoding in HTTP/1.0");
    // RFC 9112 §6.3 rule 3 and §11.2: request smuggling; reject rather than guess.
    if (st.cl_seen) return fail(err, 400, "both Content-Length and Transfer-Encoding");
    if (st.te_chunked_twice) return fail(err, 400, "chunked applied more than once");
    if (st.te_unknown) return fail(err, 501, "unknown transfer-coding");  // RFC 9112 §6.1
    // RFC 9112 §6.3 rule 4: in a request, chunked must be the final coding.
    if (!st.te_last_chunked) return fail(err, 400, "Transfer-Encoding does not end in chunked");
    if (st.te_unsupported) return fail(err, 501, "transfer-coding not implemented");
    out.chunked = true;
  }
  return 0;
}

}  // namespace fa::http::detail
