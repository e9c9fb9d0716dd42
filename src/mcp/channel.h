// Channel: where the messages of one exchange go — stdout for stdio, the HTTP response of the
// POST that carried the request for Streamable HTTP (basic/transports.mdx).
#pragma once

#include <functional>
#include <string_view>

#include "mcp/header_check.h"

namespace fa::mcp {

class Channel {
 public:
  virtual ~Channel() = default;
  // Sends one encoded JSON-RPC message. `final` marks the response to the request the channel
  // was opened for (an HTTP channel ends its response after it). `refused` marks the error for
  // a message that is not a valid request (-32700, -32600, malformed params): HTTP answers it
  // with 400 (transports.mdx: "the server cannot accept the input").
  virtual void send(std::string_view message, bool final, bool refused) = 0;
  // The final error for a method this server does not serve: 2026-07-28 Streamable HTTP answers
  // it with 404 (basic/transports/streamable-http.mdx "Protocol Version Header"). Default: an
  // ordinary error.
  virtual void send_not_found(std::string_view message) { send(message, true, false); }
  // The request is now pending on the application; `cancel()` withdraws it. A channel that can
  // tell its client left (an HTTP connection) calls it then. Default: nothing.
  virtual void pending(std::function<void()> cancel) {}
  // The HTTP request's headers while its message is handled (2026-07-28 mirrored-header
  // validation); null for transports without headers.
  virtual const HeaderLookup* headers() const { return nullptr; }
  // Ends the transport-level stream of this exchange (SEP-1699: the client resumes it with
  // Last-Event-ID); the exchange goes on. Default: nothing (streams that cannot resume).
  virtual void close_stream() {}
};

}  // namespace fa::mcp
