// RequestParser (dispatch to the per-ISA head scanners), RequestHead lookup, method names, and
// the in-place chunked body decoder (RFC 9112 §7.1).
#include "http/h1_parser.h"

#include "http/ascii.h"

#include <cassert>
#include <cstring>

#include "http/h1_scan.h"

namespace fa::http {

ScanIsa best_scan_isa() {
  static const ScanIsa best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return ScanIsa::kAvx2;
    if (__builtin_cpu_supports("sse4.2")) return ScanIsa::kSse42;
    return ScanIsa::kScalar;
  }();
  return best;
}

std::string_view scan_isa_name(ScanIsa isa) {
  switch (isa) {
    case ScanIsa::kScalar:
      return "scalar";
    case ScanIsa::kSse42:
      return "sse4.2";
    case ScanIsa::kAvx2:
      return "avx2";
    case ScanIsa::kAuto:
      break;
  }
  return "auto";
}

namespace detail {
ParseHeadFn parse_head_fn(ScanIsa isa) {
  const ScanIsa best = best_scan_isa();
  if (isa == ScanIsa::kAuto || static_cast<int>(isa) > static_cast<int>(best)) isa = best;
  switch (isa) {
    case ScanIsa::kAvx2:
      return &avx2::parse_head;
    case ScanIsa::kSse42:
      return &sse42::parse_head;
    default:
      return &scalar::parse_head;
  }
}
}  // namespace detail

RequestParser::RequestParser(const ParserLimits& limits, ScanIsa isa)
    : limits_(limits), parse_head_(detail::parse_head_fn(isa)) {
  if (limits_.max_headers > kMaxHeaders) limits_.max_headers = kMaxHeaders;
}

int RequestParser::parse_resumed(std::string_view buf, size_t prev_len, RequestHead& out) {
  // Re-scan only when the new bytes hold an LF: a head can only end, or hit a line-ending error
  // (bare LF), at an LF (picohttpparser's is_complete trick, widened so bare LFs fail fast).
  // Other errors in the new bytes surface at the next LF or limit.
  if (prev_len < buf.size()) {
    const size_t small = limits_.max_header_bytes < limits_.max_request_line
                             ? limits_.max_header_bytes
                             : limits_.max_request_line;
    if (buf.size() <= small &&
        std::memchr(buf.data() + prev_len, '\n', buf.size() - prev_len) == nullptr) {
      return kPartial;
    }
  }
  return parse_head_(buf.data(), buf.size(), limits_, out, error_);
}

std::string_view RequestHead::header(std::string_view name) const {
  for (size_t i = 0; i < num_headers; ++i) {
    if (ascii_iequals(headers[i].name, name)) return headers[i].value;
  }
  return {};
}

Method method_from_string(std::string_view m) {
  // Methods are case-sensitive (RFC 9110 §9.1).
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::kGet;
      if (m == "PUT") return Method::kPut;
      break;
    case 4:
      if (m == "POST") return Method::kPost;
      if (m == "HEAD") return Method::kHead;
      break;
    case 5:
      if (m == "PATCH") return Method::kPatch;
      if (m == "TRACE") return Method::kTrace;
      break;
    case 6:
      if (m == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (m == "OPTIONS") return Method::kOptions;
      if (m == "CONNECT") return Method::kConnect;
      break;
    default:
      break;
  }
  return Method::kOther;
}

std::string_view method_name(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kConnect:
      return "CONNECT";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kTrace:
      return "TRACE";
    case Method::kPatch:
      return "PATCH";
    case Method::kOther:
      break;
  }
  return "";
}

// ---- ChunkedDecoder ----------------------------------------------------------------------

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

int ChunkedDecoder::fail(int status, std::string_view reason) {
  state_ = State::kError;
  return detail::fail(error_, status, reason);
}

int ChunkedDecoder::decode(char* buf, size_t* len) {
  // chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 §7.1);
  // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF.
  char* dst = buf;
  const char* src = buf;
  const char* const end = buf + *len;
  auto finish = [&](int rc) {
    *len = static_cast<size_t>(dst - buf);
    return rc;
  };
  if (state_ == State::kError) return finish(kError);

  while (src < end && state_ != State::kDone) {
    const char c = *src;
    switch (state_) {
      case State::kSize: {
        const int d = hex_value(c);
        if (d < 0) {
          if (size_digits_ == 0) return finish(fail(400, "invalid chunk size"));
          state_ = State::kSizeWs;
          continue;  // re-examine c in kSizeWs
        }
        if ((chunk_left_ >> 60) != 0) return finish(fail(400, "chunk size overflow"));
        chunk_left_ = (chunk_left_ << 4) | static_cast<uint64_t>(d);
        ++size_digits_;
        if (++line_bytes_ > kMaxChunkLineBytes)
          return finish(fail(400, "chunk size line too long"));
        ++src;
        break;
      }
      case State::kSizeWs:  // BWS before ';' (RFC 9112 §7.1.1), or the line's CRLF
        if (c == ';')
          state_ = State::kSizeExt;
        else if (c == '\r')
          state_ = State::kSizeLf;
        else if (c == '\n')
          return finish(fail(400, "bare LF in chunk size line"));
        else if (c != ' ' && c != '\t')
          return finish(fail(400, "invalid chunk size"));
        if (++line_bytes_ > kMaxChunkLineBytes)
          return finish(fail(400, "chunk size line too long"));
        ++src;
        break;
      case State::kSizeExt:  // chunk-ext: skipped, but no CTLs (RFC 9112 §7.1.1)
        if (c == '\r')
          state_ = State::kSizeLf;
        else if (c == '\n')
          return finish(fail(400, "bare LF in chunk size line"));
        else if (detail::kValueStop[static_cast<unsigned char>(c)])
          return finish(fail(400, "invalid chunk extension"));
        if (++line_bytes_ > kMaxChunkLineBytes)
          return finish(fail(400, "chunk size line too long"));
        ++src;
        break;
      case State::kSizeLf:
        if (c != '\n') return finish(fail(400, "bare CR in chunk size line"));
        ++src;
        line_bytes_ = 0;
        size_digits_ = 0;
        if (chunk_left_ == 0) {
          state_ = State::kTrailerStart;  // last-chunk
        } else {
          if (chunk_left_ > max_body_ || total_ + chunk_left_ > max_body_) {
            return finish(fail(413, "chunked body exceeds limit"));
          }
          state_ = State::kData;
        }
        break;
      case State::kData: {
        const size_t avail = static_cast<size_t>(end - src);
        const size_t n = chunk_left_ < avail ? static_cast<size_t>(chunk_left_) : avail;
        if (dst != src) std::memmove(dst, src, n);
        dst += n;
        src += n;
        chunk_left_ -= n;
        total_ += n;
        if (chunk_left_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return finish(fail(400, "missing CRLF after chunk data"));
        state_ = State::kDataLf;
        ++src;
        break;
      case State::kDataLf:
        if (c != '\n') return finish(fail(400, "missing CRLF after chunk data"));
        state_ = State::kSize;
        ++src;
        break;
      case State::kTrailerStart:  // trailer-section = *( field-line CRLF ), then CRLF
        if (c == '\r')
          state_ = State::kEndLf;
        else if (c == ' ' || c == '\t')
          return finish(fail(400, "obsolete line folding in trailer"));
        else if (detail::is_token(c))
          state_ = State::kTrailerName;
        else
          return finish(fail(400, "invalid character in trailer field name"));
        if (++trailer_bytes_ > kMaxTrailerBytes)
          return finish(fail(431, "trailer section too large"));
        ++src;
        break;
      case State::kTrailerName:
        if (c == ':')
          state_ = State::kTrailerValue;
        else if (c == ' ' || c == '\t')
          return finish(fail(400, "whitespace between field name and colon"));
        else if (!detail::is_token(c))
          return finish(fail(400, "invalid character in trailer field name"));
        if (++trailer_bytes_ > kMaxTrailerBytes)
          return finish(fail(431, "trailer section too large"));
        ++src;
        break;
      case State::kTrailerValue:
        if (c == '\r')
          state_ = State::kTrailerLf;
        else if (c == '\n')
          return finish(fail(400, "bare LF in trailer"));
        else if (detail::kValueStop[static_cast<unsigned char>(c)])
          return finish(fail(400, "invalid character in trailer field value"));
        if (++trailer_bytes_ > kMaxTrailerBytes)
          return finish(fail(431, "trailer section too large"));
        ++src;
        break;
      case State::kTrailerLf:
        if (c != '\n') return finish(fail(400, "bare CR in trailer"));
        if (++trailer_bytes_ > kMaxTrailerBytes)
          return finish(fail(431, "trailer section too large"));
        state_ = State::kTrailerStart;
        ++src;
        break;
      case State::kEndLf:
        if (c != '\n') return finish(fail(400, "bare CR after trailer section"));
        state_ = State::kDone;
        ++src;
        break;
      case State::kDone:
      case State::kError:
        break;
    }
  }
  assert(dst <= src && "ChunkedDecoder::decode: decoded bytes overtook the input");
  if (state_ != State::kDone) return finish(kPartial);
  // The body is complete: move what follows it (the next pipelined request) down behind it.
  const size_t rest = static_cast<size_t>(end - src);
  if (rest != 0 && dst != src) std::memmove(dst, src, rest);
  return finish(static_cast<int>(rest));
}

}  // namespace fa::http
