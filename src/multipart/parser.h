// multipart/form-data parser (RFC 7578 on RFC 2046 §5.1): streaming, sans-I/O.
//
// Contract: feed() takes the body in chunks of any size and reports parts to a PartSink as
// they are found: on_part_begin (the part's headers), on_part_data (zero or more slices, each
// pointing into the chunk being fed or into the parser's static delimiter, valid only during
// the call), on_part_end. feed() returns kNeedMore, kDone once the close delimiter has been
// seen (later bytes are the epilogue and are ignored), or kError with error() holding the
// status to answer (400 malformed, 413 a size limit) and a readable reason. finish() says
// whether the body ended properly. Memory is bounded: the parser keeps one part's header
// block (<= limits.max_header_bytes) and no body bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fa::multipart {

// Limits with the status each one answers when exceeded.
struct Limits {
  size_t max_fields = 1000;              // parts without a filename; 400 past this
  size_t max_files = 1000;               // parts with a filename; 400 past this
  size_t max_header_bytes = 16 * 1024;   // one part's header block, bytes; 413 past this
  size_t max_field_bytes = 1024 * 1024;  // one field's value, bytes; 413 past this
  uint64_t max_file_bytes = UINT64_MAX;  // one file's content, bytes; 413 past this
};

struct Part {
  std::string name;                     // Content-Disposition `name` (RFC 7578 §4.2)
  std::optional<std::string> filename;  // `filename*` (RFC 8187) or `filename`; set = a file
  std::string content_type;             // the part's Content-Type, "" when absent (§4.4)
  std::vector<std::pair<std::string, std::string>> headers;  // all of them, as sent

  bool is_file() const { return filename.has_value(); }
};

// Receives the parts; implemented by the caller (bindings, tests, fuzzer).
class PartSink {
 public:
  virtual ~PartSink() = default;
  virtual void on_part_begin(const Part& part) = 0;
  virtual void on_part_data(std::string_view bytes) = 0;
  virtual void on_part_end() = 0;
};

enum class Status : uint8_t { kNeedMore, kDone, kError };

struct Error {
  int status = 0;           // 400 or 413
  std::string_view reason;  // static string
};

class Parser {
 public:
  // `boundary` as from boundary_from_content_type(): 1 to 70 bytes without CR or LF (the
  // search relies on '\r' starting the delimiter only). An invalid one makes feed() fail.
  Parser(std::string_view boundary, Limits limits = {});

  // Parses `chunk`; see the contract at the top of this file.
  Status feed(std::string_view chunk, PartSink& sink);
  // kDone if the close delimiter was seen, else kError ("ended before the closing boundary").
  Status finish();

  const Error& error() const { return error_; }
  size_t fields() const { return fields_; }
  size_t files() const { return files_; }

 private:
  enum class State : uint8_t {
    kPreamble,    // before the first delimiter; bytes discarded
    kAfterDelim,  // just past "--boundary": "--" closes, else padding then CRLF
    kAfterDash,   // saw one '-' after the delimiter
    kPadding,     // transport padding (LWSP) before the CRLF, RFC 2046 §5.1.1
    kPaddingCr,   // saw the CR of that CRLF
    kHeaders,     // collecting the part's header block up to CRLFCRLF
    kBody,        // part content up to the next delimiter
    kEpilogue,    // after the close delimiter; bytes discarded
    kError,
  };

  Status fail(int status, std::string_view reason);
  // Searches `chunk` from `pos` for the delimiter; emits content to the sink when in kBody.
  // Returns the position just past the delimiter, or npos when the chunk ran out.
  size_t scan_content(std::string_view chunk, size_t pos, PartSink& sink);
  bool emit(std::string_view bytes, PartSink& sink);
  bool parse_headers(PartSink& sink);

  std::string delim_;  // "\r\n--" + boundary
  Limits limits_;
  State state_ = State::kPreamble;
  size_t held_ = 2;  // bytes of delim_ matched at the end of the previous chunk (a virtual
                     // CRLF before the body lets the first boundary start at byte 0)
  std::string header_block_;
  Part part_;
  uint64_t part_bytes_ = 0;
  size_t fields_ = 0;
  size_t files_ = 0;
  Error error_;
};

}  // namespace fa::multipart
