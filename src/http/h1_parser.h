// HTTP/1.1 request parser (RFC 9112): incremental, zero-copy, no I/O.
//
// Contract (picohttpparser-style): parse_request() returns bytes consumed (> 0) when a full
// request head is present, kPartial when more bytes are needed, kError when the head is invalid
// (then error() holds the status to answer with and a readable reason). All string_views in
// RequestHead point into the caller's buffer and live as long as those bytes do.
//
// Strictness (RFC 9112 §2.2, §5.2, §6.1, §6.3, §11.2): lines end in CRLF only (bare CR and bare
// LF are 400), obs-fold is 400, Content-Length with Transfer-Encoding is 400. Empty lines before
// the request-line are skipped (§2.2) and count in the bytes consumed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fa::http {

// Limits with the status each one answers when exceeded. Configurable per server.
struct ParserLimits {
  size_t max_request_line = 8 * 1024;          // bytes; 414 URI Too Long past this
  size_t max_header_bytes = 16 * 1024;         // whole head, bytes; 431 past this
  size_t max_headers = 100;                    // count; 431 past this (hard cap kMaxHeaders)
  uint64_t max_body_bytes = 16 * 1024 * 1024;  // bytes; 413 Content Too Large past this
};

inline constexpr size_t kMaxHeaders = 128;  // storage in RequestHead; limits.max_headers <= this

inline constexpr int kPartial = -2;
inline constexpr int kError = -1;

// Which scanner implementation parses heads. kAuto picks the best the CPU supports, once, at
// run time (no -march=native); a request for an ISA the CPU lacks falls back to kAuto.
enum class ScanIsa : uint8_t { kAuto, kScalar, kSse42, kAvx2 };

// The ISA kAuto resolves to on this CPU.
ScanIsa best_scan_isa();
// A readable name for an ISA ("scalar", "sse4.2", "avx2").
std::string_view scan_isa_name(ScanIsa isa);

enum class Method : uint8_t {
  kGet,
  kHead,
  kPost,
  kPut,
  kDelete,
  kConnect,
  kOptions,
  kTrace,
  kPatch,
  kOther
};

struct Header {
  std::string_view name;   // as sent (case preserved); validated token
  std::string_view value;  // leading/trailing OWS stripped
};

struct ParseError {
  int status = 0;           // 400, 413, 414, 431, 501, 505
  std::string_view reason;  // static string, e.g. "both Content-Length and Transfer-Encoding"
};

struct RequestHead {
  std::string_view method;  // token as sent
  Method method_id = Method::kOther;
  std::string_view target;    // request-target as sent
  std::string_view path;      // target up to the first '?' or '#'
  std::string_view query;     // after '?', up to '#', without them; empty if none
  uint8_t version_minor = 1;  // HTTP/1.<minor>; only 1.0 and 1.1 accepted (505 otherwise)
  uint8_t version_major = 1;  // 2 for an HTTP/2 stream (src/h2 lays its head out as 1.1)
  Header headers[kMaxHeaders];
  size_t num_headers = 0;

  // Semantics derived from the headers (RFC 9112 §6, §9.3):
  bool keep_alive = true;        // 1.1 default on, 1.0 default off; `Connection: close/keep-alive`
  bool chunked = false;          // Transfer-Encoding ends in chunked
  bool expect_continue = false;  // Expect: 100-continue
  bool upgrade = false;          // Connection: upgrade + Upgrade header present
  int64_t content_length = -1;   // -1 if absent
  size_t head_bytes = 0;         // bytes of the head including the final CRLFCRLF

  // Case-insensitive lookup of the first header with this name; empty view if none.
  std::string_view header(std::string_view name) const;
  // True if the request has a body to read (Content-Length > 0 or chunked).
  bool has_body() const { return chunked || content_length > 0; }
};

namespace detail {
using ParseHeadFn = int (*)(const char* buf, size_t len, const ParserLimits& limits,
                            RequestHead& out, ParseError& err);
ParseHeadFn parse_head_fn(ScanIsa isa);
}  // namespace detail

class RequestParser {
 public:
  // limits.max_headers is clamped to kMaxHeaders; `isa` is for tests and benchmarks.
  explicit RequestParser(const ParserLimits& limits = {}, ScanIsa isa = ScanIsa::kAuto);

  // Parses the request head at the start of `buf`. `prev_len` is how many bytes of `buf` were
  // already seen by a previous kPartial call (0 the first time): while the new bytes hold no LF
  // and no limit is near, the head is not re-scanned (an error in them then surfaces with the
  // next LF). Returns head bytes consumed, kPartial, or kError (see error()).
  int parse_request(std::string_view buf, size_t prev_len, RequestHead& out) {
    if (prev_len != 0) return parse_resumed(buf, prev_len, out);
    return parse_head_(buf.data(), buf.size(), limits_, out, error_);
  }

  const ParseError& error() const { return error_; }
  const ParserLimits& limits() const { return limits_; }

 private:
  int parse_resumed(std::string_view buf, size_t prev_len, RequestHead& out);

  ParserLimits limits_;
  ParseError error_;
  detail::ParseHeadFn parse_head_;
};

// Decodes a chunked body in place (RFC 9112 §7.1): chunk data is moved down over the chunk
// framing so decoded bytes are contiguous at the start of the region. Chunk extensions are
// skipped (a chunk-size line longer than kMaxChunkLineBytes is 400); trailer fields are validated
// and dropped (a trailer section longer than kMaxTrailerBytes is 431). Resumable across calls.
inline constexpr size_t kMaxChunkLineBytes = 4 * 1024;  // bytes incl. extensions; 400 past this
inline constexpr size_t kMaxTrailerBytes = 16 * 1024;   // bytes of trailer fields; 431 past this

class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(uint64_t max_body_bytes = 16 * 1024 * 1024) : max_body_(max_body_bytes) {}

  // Decodes buf[0, *len) in place (the same contract as picohttpparser's phr_decode_chunked):
  // on return the decoded body bytes of this call are at buf[0, *len). Returns kPartial when the
  // body is not complete (all input was consumed; pass only new bytes next time), kError (see
  // error(): 400 for bad framing, 413 past max_body_bytes, 431 past kMaxTrailerBytes; errors are
  // sticky until reset()), or n >= 0 when the body is complete:
  // the n bytes that followed it (the next pipelined request) were moved to buf + *len.
  int decode(char* buf, size_t* len);

  const ParseError& error() const { return error_; }
  uint64_t total_decoded() const { return total_; }
  void reset() { *this = ChunkedDecoder(max_body_); }

 private:
  enum class State : uint8_t {
    kSize,
    kSizeWs,
    kSizeExt,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailerStart,
    kTrailerName,
    kTrailerValue,
    kTrailerLf,
    kEndLf,
    kDone,
    kError
  };
  int fail(int status, std::string_view reason);

  uint64_t max_body_;
  uint64_t total_ = 0;
  uint64_t chunk_left_ = 0;
  State state_ = State::kSize;
  int size_digits_ = 0;       // significant hex digits of the current chunk size
  size_t line_bytes_ = 0;     // bytes of the current chunk-size line (extensions included)
  size_t trailer_bytes_ = 0;  // bytes of the trailer section so far
  ParseError error_;
};

// Maps a method token to its id.
Method method_from_string(std::string_view m);
// The canonical name of a method id ("GET", ...); "" for kOther.
std::string_view method_name(Method m);

}  // namespace fa::http
