// Client side of HTTP/1.1 (RFC 9112) for MCP's Streamable HTTP transport, sans I/O: a response
// parser fed whatever bytes the socket gave (status line, headers, body framed by
// Content-Length, chunked transfer coding, or the connection's close), and a text/event-stream
// parser (WHATWG HTML "Server-sent events") for the bodies that are SSE streams. No sockets,
// no allocation per byte; both take input in arbitrary pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fa::mcp::client {

struct ResponseHead {
  int status = 0;
  int minor_version = 1;  // HTTP/1.<minor>
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values trimmed
  // The first value of header `name` (lower case), or empty.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

// What the parser hands out while it is fed. Views are valid only during the call.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void on_head(const ResponseHead& head) = 0;  // final (non-1xx) head
  virtual void on_body(std::string_view bytes) = 0;    // de-chunked body bytes
  virtual void on_complete() = 0;                      // the response's end
};

class HttpResponseParser {
 public:
  enum class State : uint8_t {
    kHead,
    kBody,
    kChunkSize,
    kChunkData,
    kChunkCrlf,
    kTrailers,
    kUntilClose,
    kDone,
    kError
  };
  // Limits: a head (or trailer section) larger than this, or more headers, is an error.
  static constexpr size_t kMaxHead = 64 * 1024;
  static constexpr size_t kMaxHeaders = 128;

  // `head_request`: the request was HEAD, so the response has no body whatever its headers say.
  explicit HttpResponseParser(bool head_request = false) : head_request_(head_request) {}

  // Consumes bytes of one response; returns how many. Fewer than data.size() means the response
  // ended (kDone: the rest belongs to the next response on the connection) or an error (kError;
  // then the count is meaningless and the connection must be closed).
  size_t feed(std::string_view data, ResponseSink& sink);
  // The peer closed the connection: ends a body read until close; an error in any other state
  // but kDone. Returns true when the response is complete.
  bool finish(ResponseSink& sink);
  // Ready for the next response on the same connection (keep the head buffer's capacity).
  void reset(bool head_request = false);

  State state() const { return state_; }
  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kError; }
  const std::string& error() const { return error_; }
  const ResponseHead& head() const { return head_; }
  // True when the connection may carry another request after this response: HTTP/1.1 without
  // "Connection: close" (HTTP/1.0 with "keep-alive"), and a body not delimited by the close.
  bool keep_alive() const { return keep_alive_; }

 private:
  size_t fail(std::string_view why);
  bool parse_head(std::string_view head);
  bool start_body(ResponseSink& sink);

  bool head_request_;
  State state_ = State::kHead;
  std::string buf_;  // a head, chunk-size line or trailers not yet complete
  std::string error_;
  ResponseHead head_;
  std::vector<std::pair<std::string, std::string>> spare_;  // header strings kept for reuse
  uint64_t left_ = 0;                                       // body or chunk bytes still expected
  bool keep_alive_ = false;
};

// text/event-stream. Lines end in CRLF, LF or CR; "data" lines join with LF; an empty line
// dispatches the event (none when no data line came); "id" (without NUL) and "retry" (digits)
// are remembered across events; ":" lines are comments; a leading UTF-8 BOM is dropped.
struct SseEvent {
  std::string_view type;  // "message" unless an "event" field said otherwise
  std::string_view data;
  std::string_view id;  // the last event id at dispatch (may be from an earlier event)
};

class SseSink {
 public:
  virtual ~SseSink() = default;
  virtual void on_event(const SseEvent& event) = 0;
};

class SseParser {
 public:
  static constexpr size_t kMaxEvent = 16 * 1024 * 1024;  // data of one event; more is an error

  // Returns false (and stays failed) when an event grows past kMaxEvent.
  bool feed(std::string_view data, SseSink& sink);
  bool failed() const { return failed_; }
  const std::string& last_event_id() const { return last_id_; }
  bool has_retry() const { return has_retry_; }
  uint64_t retry_ms() const { return retry_ms_; }

 private:
  void line(std::string_view l, SseSink& sink);

  std::string line_;  // a line not yet complete
  std::string data_, type_, last_id_;
  bool has_data_ = false, pending_cr_ = false, started_ = false, failed_ = false;
  bool has_retry_ = false;
  uint64_t retry_ms_ = 0;
};

}  // namespace fa::mcp::client
