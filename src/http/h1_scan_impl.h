// The HTTP/1.1 head scanner (RFC 9112 §2-§5), written once and compiled once per ISA.
//
// Included (deliberately without an include guard) by h1_scan_{scalar,sse42,avx2}.cpp inside
// their own namespace, after they define FA_H1_TARGET (a target attribute or nothing) and:
//   const char* find_target_end(const char* p, const char* end, const char*& mark);
//       // first byte <= SP or DEL; sets a null `mark` to the first '?' or '#' before it
//   const char* find_name_end(const char* p, const char* end);    // first byte that is not tchar
//   bool host_chars_ok(std::string_view v, const char* lo, const char* end);  // only Host bytes
//   struct Cursor { Cursor(lo, p, end); name_end(q); value_end(line, q); };
// The finders return `end` when no such byte exists and never read outside [lo, end). The
// Cursor answers "first non-tchar at or past q" and "first value stop (CTL but HTAB, DEL) at or
// past q, where [line, q) is known to hold none" for positions that only move forward, so a SIMD
// cursor classifies each 64-byte block once and then answers with a shift and a bit count.

// parse_head() contract: parses the head at buf[0, len); returns bytes consumed, kPartial, or
// kError with `err` set. It reads no byte at or past buf + min(len, limits.max_header_bytes).

FA_H1_TARGET static inline bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

// Parses HTTP-version CRLF ("HTTP/" DIGIT "." DIGIT CRLF, RFC 9112 §2.3) from the n bytes at
// p. Returns 0 with `minor` set, kPartial if n < 10 bytes are a valid prefix, or kError.
FA_H1_TARGET static inline int parse_version(const char* p, size_t n, uint8_t& minor,
                                             ParseError& err) {
  if (n >= 10 && std::memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '1' || p[7] == '0') &&
      p[8] == '\r' && p[9] == '\n') {
    minor = static_cast<uint8_t>(p[7] - '0');
    return 0;
  }
  static constexpr char kShape[] = "HTTP/0.0";  // '0' stands for any DIGIT
  for (size_t i = 0; i < 8 && i < n; ++i) {
    if (kShape[i] == '0' ? (p[i] < '0' || p[i] > '9') : p[i] != kShape[i]) {
      return fail(err, 400, "invalid HTTP version");
    }
  }
  if (n < 9) return kPartial;
  if (p[8] != '\r')
    return fail(err, 400, p[8] == '\n' ? "bare LF in request line" : "invalid HTTP version");
  if (n < 10) return kPartial;
  if (p[9] != '\n') return fail(err, 400, "bare CR in request line");
  return fail(err, 505,
              "HTTP version not supported");  // RFC 9110 §15.6.6; 1.0 and 1.1 took the fast path
}

// Dispatches a validated field to its semantic handler by name (case-insensitive).
FA_H1_TARGET static inline int on_field(std::string_view name, std::string_view value,
                                        const char* lo, const char* hend, FieldState& st,
                                        ParseError& err) {
  switch (name.size()) {
    case 4:
      if (token_ieq(name.data(), "host")) {
        // RFC 9112 §3.2: more than one Host line, or an invalid Host value, is 400.
        if (++st.host_count > 1) return fail(err, 400, "duplicate Host header");
        if (!host_chars_ok(value, lo, hend)) return fail(err, 400, "invalid Host header");
      }
      break;
    case 6:
      if (token_ieq(name.data(), "expect")) on_expect(value, st);
      break;
    case 7:
      if (token_ieq(name.data(), "upgrade")) st.upgrade_seen = true;
      break;
    case 10:
      if (token_ieq(name.data(), "connection")) on_connection_fast(value, st);
      break;
    case 14:
      if (token_ieq(name.data(), "content-length")) return on_content_length_fast(value, st, err);
      break;
    case 17:
      if (token_ieq(name.data(), "transfer-encoding")) return on_transfer_encoding(value, st, err);
      break;
    default:
      break;
  }
  return 0;
}

FA_H1_TARGET int parse_head(const char* const buf, const size_t len, const ParserLimits& limits,
                            RequestHead& out, ParseError& err) {
  const char* const end = buf + len;
  // Scanning stops at hend: running into it with more bytes behind is 431 (head too large).
  const char* const hend = len > limits.max_header_bytes ? buf + limits.max_header_bytes : end;
  auto ran_out = [&]() {
    return hend != end ? fail(err, 431, "request header section too large") : kPartial;
  };

  const char* p = buf;
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
  while (p < hend && *p == '\r') {
    if (hend - p < 2) return ran_out();
    if (p[1] != '\n') return fail(err, 400, "bare CR before request line");
    p += 2;
  }

  // request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3).
  const size_t line_cap = limits.max_request_line + 2;  // + CRLF
  const char* const lend = static_cast<size_t>(hend - p) > line_cap ? p + line_cap : hend;
  auto ran_out_line = [&]() {
    return lend != hend ? fail(err, 414, "request line too long") : ran_out();
  };

  const char* const m = p;
  if (lend - p >= 5 && std::memcmp(p, "GET ", 4) == 0) {
    out.method_id = Method::kGet;
    p += 3;
  } else if (lend - p >= 5 && std::memcmp(p, "POST ", 5) == 0) {
    out.method_id = Method::kPost;
    p += 4;
  } else {
    p = find_name_end(p, lend);
    if (p == lend) return ran_out_line();
    out.method_id = method_from_string(std::string_view(m, static_cast<size_t>(p - m)));
  }
  if (*p != ' ' || p == m) return fail(err, 400, "invalid character in method");
  out.method = std::string_view(m, static_cast<size_t>(p - m));
  ++p;

  const char* const t = p;
  const char* mark = nullptr;
  p = find_target_end(p, lend, mark);
  if (p == lend) return ran_out_line();
  if (*p != ' ') return fail(err, 400, "invalid character in request-target");
  if (p == t) return fail(err, 400, "empty request-target");
  const std::string_view target(t, static_cast<size_t>(p - t));
  out.target = target;
  if (mark == nullptr) {
    out.path = target;  // from registers: re-reading out.target would stall store forwarding
    out.query = std::string_view();
  } else {
    out.path = std::string_view(t, static_cast<size_t>(mark - t));
    if (*mark == '?') {
      const char* const qs = mark + 1;
      const void* hash = std::memchr(qs, '#', static_cast<size_t>(p - qs));
      const char* const qe = hash != nullptr ? static_cast<const char*>(hash) : p;
      out.query = std::string_view(qs, static_cast<size_t>(qe - qs));
    } else {
      out.query = std::string_view();
    }
  }
  ++p;

  {
    const size_t avail = static_cast<size_t>(lend - p);
    const int rv = parse_version(p, avail < 10 ? avail : 10, out.version_minor, err);
    if (rv == kError) return kError;
    if (rv == kPartial) return ran_out_line();
  }
  p += 10;

  // field-line = field-name ":" OWS field-value OWS CRLF (RFC 9112 §5).
  FieldState st;
  Cursor cur(buf, p, hend);
  const size_t max_headers = limits.max_headers < kMaxHeaders ? limits.max_headers : kMaxHeaders;
  size_t n = 0;
  for (;;) {
    if (p == hend) return ran_out();
    if (*p == '\r') {
      if (hend - p < 2) return ran_out();
      if (p[1] != '\n') return fail(err, 400, "bare CR in header section");
      p += 2;
      break;
    }
    const char* const name = p;
    p = cur.name_end(p);
    if (p == hend) return ran_out();
    if (*p != ':') {
      if (is_ows(*p)) {
        // RFC 9112 §5.1 (whitespace before the colon) and §5.2 (obs-fold): 400.
        if (p != name) return fail(err, 400, "whitespace between field name and colon");
        return fail(err, 400,
                    n == 0 ? "whitespace before first header field" : "obsolete line folding");
      }
      if (*p == '\n') return fail(err, 400, "bare LF in header section");
      return fail(err, 400, "invalid character in field name");
    }
    if (p == name) return fail(err, 400, "empty field name");
    if (n == max_headers) return fail(err, 431, "too many header fields");
    const std::string_view fname(name, static_cast<size_t>(p - name));
    // The value ends at the first stop after the colon; a SIMD cursor looks from the line start
    // (a valid name holds no stop) so this query does not wait for the name query's answer.
    const char* const eol = cur.value_end(name, p + 1);
    const char* v = p + 1;
    while (v < eol && is_ows(*v)) ++v;
    p = eol;
    if (p == hend) return ran_out();
    if (*p != '\r') {
      return fail(err, 400,
                  *p == '\n' ? "bare LF in header section" : "invalid character in field value");
    }
    if (hend - p < 2) return ran_out();
    if (p[1] != '\n') return fail(err, 400, "bare CR in field value");
    const char* ve = p;
    while (ve > v && is_ows(ve[-1])) --ve;
    const std::string_view fvalue(v, static_cast<size_t>(ve - v));
    out.headers[n] = Header{fname, fvalue};
    ++n;
    if (on_field(fname, fvalue, buf, hend, st, err) != 0) return kError;
    p += 2;
  }
  out.num_headers = n;
  if (finish_head(st, limits, out, err) != 0) return kError;
  assert(p <= hend && n <= max_headers && "parse_head: consumed past the head limit or field cap");
  out.head_bytes = static_cast<size_t>(p - buf);
  return static_cast<int>(p - buf);
}
