// A request body read by the handler as it arrives (routes registered with
// Server::route_streaming): one event per read, so the handler paces the client (HTTP/1.1:
// the connection stops reading; HTTP/2: the stream's window reopens only as it reads).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace fa::http {

enum class BodyEvent : uint8_t {
  kData,   // `chunk` holds the next body bytes (valid only during the call: copy them)
  kEnd,    // the body is complete (RFC 9112 §6.3: Content-Length reached, or last-chunk;
           // RFC 9113 §8.1: END_STREAM)
  kError,  // `status`: 0 the client left (or reset the stream) mid-body, or the exchange
           // ended; 400 bad chunked framing; 408 stalled; 413 too big
};

// Called exactly once per read_body() call; may be called before read_body() returns.
using BodyReader = std::function<void(BodyEvent event, std::string_view chunk, int status)>;

// Bodies up to this size are read whole before dispatch even on streaming routes (one chunk is
// cheaper than an exchange of reads); larger or chunked ones are streamed (HTTP/2: a body
// declared larger, or of unknown size, that is not complete when its HEADERS are processed).
constexpr uint64_t kStreamBodyThreshold = 64 * 1024;

}  // namespace fa::http
