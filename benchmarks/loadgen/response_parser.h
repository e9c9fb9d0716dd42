// ResponseParser: frames HTTP/1.1 responses (RFC 9112) for the load generator, sans I/O.
// Fed whatever bytes a recv() returned, it says where each response ends — status line,
// Content-Length or chunked body (§6.3, §7.1), 1xx interim responses skipped (RFC 9110 §15.2),
// 204/304 and responses to HEAD without a body — and keeps nothing per response but a small
// reused head buffer, so it costs no allocation at millions of responses per second. (The
// engine's own client parser, src/mcp/client/http_response.h, copies every header into
// strings; the unit test checks the two agree.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fa::loadgen {

class ResponseParser {
 public:
  enum class Result : uint8_t { kNeedMore, kDone, kError };
  static constexpr size_t kMaxHead = 64 * 1024;  // a longer head (or trailer section) is an error
  static constexpr size_t kMaxLine = 1024;       // a longer chunk-size line is an error

  // `head_request`: the request was HEAD, so the response has no body (RFC 9110 §9.3.2).
  explicit ResponseParser(bool head_request = false) : head_request_(head_request) {}

  // Consumes bytes of the current response and sets *used to how many. kDone: the response is
  // complete (the rest of `data` belongs to the next one; call reset() first). kNeedMore: all of
  // `data` was consumed. kError: malformed (error() says why); the connection must be closed.
  Result feed(std::string_view data, size_t* used);
  // The peer closed: completes a body delimited by the close (no Content-Length, not chunked).
  bool finish();
  void reset(bool head_request = false);

  int status() const { return status_; }
  // False when the response said "Connection: close" (or was HTTP/1.0 without keep-alive).
  bool keep_alive() const { return keep_alive_; }
  bool chunked() const { return chunked_; }
  uint64_t body_bytes() const { return body_bytes_; }  // de-chunked body length so far
  const char* error() const { return error_; }

 private:
  enum class State : uint8_t { kHead, kBody, kChunkSize, kChunkData, kChunkCrlf, kTrailers,
                               kUntilClose, kDone, kError };
  Result fail(const char* why);
  // Parses a complete head (status line to the blank line); false on a malformed head.
  bool parse_head(std::string_view h);
  // Chooses the body state after a final head; returns kDone for a body-less response.
  Result start_body();

  bool head_request_;
  State state_ = State::kHead;
  std::string head_;  // head bytes (or a chunk-size/trailer line) not yet complete
  int status_ = 0;
  bool keep_alive_ = true;
  bool chunked_ = false;
  int64_t content_length_ = -1;
  uint64_t left_ = 0;        // body or chunk bytes still expected
  uint8_t crlf_seen_ = 0;    // bytes of a chunk's trailing CRLF seen
  uint64_t body_bytes_ = 0;
  const char* error_ = "";
};

}  // namespace fa::loadgen
