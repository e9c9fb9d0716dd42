// Stream: one HTTP/2 request/response exchange (RFC 9113 §5) as H2Protocol keeps it — the
// request as it arrives, then the same RequestHead/RouteMatch a HTTP/1.1 handler sees, then the
// response bytes waiting for flow-control window.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/event_loop.h"
#include "http/body_reader.h"
#include "http/h1_parser.h"
#include "http/response_compressor.h"
#include "http/router.h"

namespace fa::h2 {

class StreamChannel;

struct Stream {
  int32_t id = 0;
  // The request: pseudo-header fields (RFC 9113 §8.3.1) and regular fields, owned here; `head`
  // takes views into them at dispatch (the vectors no longer change then).
  std::string method, path, authority, scheme;
  std::string protocol;  // :protocol of an extended CONNECT (RFC 8441 §4), e.g. "websocket"
  std::vector<std::pair<std::string, std::string>> fields;
  size_t field_bytes = 0;  // name + value + 32 per field (RFC 9113 §6.5.2's list size)
  bool in_trailers = false;
  // The request body: whole, or (body_streamed) the bytes received and not yet read.
  std::string body;
  // The head laid out as HTTP/1.1 text ("GET /p HTTP/1.1\r\nname: value\r\n...\r\n"): every
  // view in `head` points into it, as it does into a HTTP/1.1 connection's buffer, so code that
  // copies a head whole (head_bytes from method.data()) sees the same layout on both versions.
  std::string raw_head;
  int error_status = 0;  // answer this instead of calling the handler (413, 431)
  const char* error_reason = "";
  http::RequestHead head;
  http::RouteMatch match;

  // The exchange.
  bool pushed = false;  // server push (RFC 9113 §8.4): we made the request, the peer reads
  bool dispatched = false;
  bool open = false;           // the handler may still answer
  bool streaming = false;      // start() was called
  bool head_only = false;      // HEAD: no DATA
  bool reset = false;          // the client reset it, or the connection went away
  bool eof = false;            // every response byte is in `out`
  bool data_deferred = false;  // the data source said NGHTTP2_ERR_DEFERRED: resume on write
  bool provider_set = false;   // a response with a data source was submitted
  std::string out;             // response bytes not yet taken by nghttp2
  size_t out_off = 0;
  // When nghttp2 last took bytes of `out` (or they were queued into an empty one): a stream
  // whose window stays shut past the send timeout is reset (H2Protocol::check_stalls).
  TimePoint progress_at{};
  std::function<void()> on_drain;
  std::function<void()> on_done;
  http::ResponseCompressor compressor;
  // Set once an extended CONNECT was answered (Exchange::tunnel): the stream carries bytes.
  std::shared_ptr<StreamChannel> tunnel;

  // A request body streamed to the handler (Server::route_streaming; h2/body_stream.cpp). The
  // stream's receive window is given back only for bytes the handler has read (RFC 9113 §5.2),
  // so a handler that does not read makes the client wait.
  bool body_candidate = false;  // a streaming route: the stream's window is ours to reopen
  bool body_streamed = false;   // dispatched before the body was complete (Request::body_streamed)
  bool body_end = false;        // END_STREAM arrived (on DATA, or on the trailers)
  bool body_discard = false;    // the rest of the body is dropped as it comes (window reopened)
  bool reset_after_response = false;  // RST_STREAM NO_ERROR once our END_STREAM went (§8.1)
  int body_fail = -1;                 // -1, or the status a read gets (0 the client left)
  uint64_t body_total = 0;            // body bytes received (max_body_bytes)
  size_t body_unconsumed = 0;         // bytes in `body` not yet given back to the window
  http::BodyReader reader;            // the pending read, if any
  TimerId body_timer = 0;             // body_timeout while a read waits for bytes

  size_t pending() const { return out.size() - out_off; }
};

}  // namespace fa::h2
