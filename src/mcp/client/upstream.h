// Upstream: one MCP server this process talks to as a client (the MCP client's transports and
// the proxy's upstreams): a stdio child process or a Streamable HTTP endpoint. The era is
// negotiated once (start): `server/discover` is probed first (2026-07-28 server/discover.mdx)
// and `initialize` + `notifications/initialized` are the fallback (2025-11-25 lifecycle.mdx).
// Requests are correlated by id (Correlator), bounded by a timeout (with_timeout); a timed-out
// request is abandoned with notifications/cancelled (basic/utilities/cancellation.mdx).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/event_loop.h"
#include "core/future.h"
#include "mcp/client/correlator.h"

namespace fa::mcp::client {

// A tool argument mirrored into an `Mcp-Param-{name}` HTTP header (2026-07-28
// streamable-http.mdx "Custom Headers from Tool Parameters"): `name` is the x-mcp-header token,
// `value` the argument as text (a string as is, an integer in decimal, true/false). The HTTP
// transport sends it as "Value Encoding" says (append_header_value); stdio ignores it.
struct ParamHeader {
  std::string name;
  std::string value;
};

// One outgoing request, as parts so the transport can add the era's _meta and headers.
struct Request {
  std::string_view method;
  std::string_view members;       // the params object's members without braces ("a":1,...)
  std::string_view meta_members;  // members of params._meta without braces; may be empty
  std::string_view name;          // tools/call, prompts/get name or resources/read URI (Mcp-Name)
  // When set: the whole params object, sent verbatim (the caller stamped its own _meta; the
  // members above are then unused).
  std::string_view params = {};
  // The options' timeout unless set; zero or less waits forever.
  std::optional<std::chrono::milliseconds> timeout = {};
  // 2026-07-28 servers: the clientCapabilities stamped in _meta (raw JSON object); empty: {}.
  // A proxy passes its client's, so the server may ask it for input (mrtr.mdx).
  std::string_view client_capabilities = {};
  // 2026-07-28 HTTP tools/call: the Mcp-Param-* headers (the caller derived them from the
  // tool's x-mcp-header annotations). Read while call() runs, not kept.
  std::span<const ParamHeader> param_headers = {};
};

struct UpstreamOptions {
  std::string client_name = "fasterapi-mcp-client";
  std::string client_version = "1.0";
  std::chrono::milliseconds timeout{30000};  // per request
  bool probe_modern = true;                  // try server/discover (2026-07-28) before initialize
  // The client's capabilities (raw JSON object) declared in initialize (2025-11-25), whose
  // server requests reach on_request(). The 2026-07-28 _meta stamp declares none.
  std::string capabilities = "{}";
  // False: start() only connects; the owner runs its own handshake through call() and reports
  // its outcome with set_era() (MCPClient, whose handshake is in Python).
  bool handshake = true;
};

class Upstream : public std::enable_shared_from_this<Upstream> {
 public:
  using NotificationFn = std::function<void(std::string_view method, std::string_view params)>;
  // A server-to-client request (sampling/createMessage, elicitation/create, roots/list, ping:
  // 2025-11-25 client/*.mdx, basic/utilities/ping.mdx). `id` is the raw JSON id token to pass
  // back to respond()/respond_error(); params is raw JSON (empty when absent).
  using RequestFn =
      std::function<void(std::string_view id, std::string_view method, std::string_view params)>;
  using ClosedFn = std::function<void(std::string_view reason)>;
  virtual ~Upstream() = default;

  // Connects/spawns and negotiates the era. Fails with std::runtime_error naming the cause.
  future<> start();
  // Sends a request; resolves with the answer, a JSON-RPC error, or kRequestTimeout /
  // kConnectionClosed (never fails). `id_out` receives the request id (for cancel()).
  future<Response> call(const Request& request, uint64_t* id_out = nullptr);
  // Stops waiting for request `id` and tells the server (notifications/cancelled).
  void cancel(uint64_t id, std::string_view reason);
  // Server notifications (progress, list_changed, logging, resources/updated) arrive here,
  // whether they came on a request's answer stream, the GET stream or a stdio pipe.
  void on_notification(NotificationFn fn) { on_notification_ = std::move(fn); }
  // Server-to-client requests arrive here. Without a handler, ping is answered and anything
  // else gets -32601 (no capability was declared for it).
  void on_request(RequestFn fn) { on_request_ = std::move(fn); }
  // The client's answer to server request `id` (the raw token on_request gave).
  void respond(std::string_view id, std::string_view result_json);
  void respond_error(std::string_view id, int code, std::string_view message,
                     std::string_view data_json = {});
  // Sends a notification (params: raw JSON object or empty).
  void notify(std::string_view method, std::string_view params_json);
  // Called once when the connection ends (the process exited, close()), with why.
  void on_closed(ClosedFn fn) { on_closed_ = std::move(fn); }
  // The era an owner-run handshake (options().handshake == false) agreed on.
  void set_era(bool modern, std::string version) {
    modern_ = modern;
    version_ = std::move(version);
  }
  // While on_notification/on_request run: the id of our request on whose answer stream the
  // message came (HTTP: a POST's SSE stream), 0 when none is known (stdio, the GET stream).
  // What a proxy uses to route the message to the client that made the call.
  uint64_t related_request() const { return related_; }
  // HTTP: opens the standalone GET stream for the session's unsolicited messages
  // (transports.mdx "Listening for Messages from the Server"); nothing on stdio.
  virtual void listen() {}
  // Ends the connection politely and resolves once it is over: HTTP sends DELETE for the
  // session first; a stdio child has been reaped. Never fails.
  virtual future<> shutdown();
  // Ends the connection: pending requests fail with kConnectionClosed; a child is reaped.
  virtual void close() = 0;
  virtual bool alive() const = 0;
  // True once nothing of the connection is left (a closed stdio child has been reaped).
  virtual bool finished() const { return !alive(); }

  bool modern() const { return modern_; }
  const std::string& protocol_version() const { return version_; }
  const std::string& server_info() const { return server_info_; }    // raw JSON, may be empty
  const std::string& capabilities() const { return capabilities_; }  // raw JSON, may be empty
  EventLoop& loop() const { return loop_; }
  const UpstreamOptions& options() const { return options_; }

 protected:
  Upstream(EventLoop& loop, UpstreamOptions options) : loop_(loop), options_(std::move(options)) {}
  // Transport hooks: open the connection; send one encoded request whose id is `id`; send a
  // notification. `modern_headers`: add the 2026-07-28 request headers (HTTP).
  virtual future<> open() = 0;
  virtual void send_request(uint64_t id, std::string&& body, const Request& request) = 0;
  virtual void send_notification(std::string&& body) = 0;
  // Tells the server that request `id` is abandoned by transport means, when the transport has
  // them (a 2026-07-28 HTTP request has no session a notification could name: its connection is
  // closed instead). False: send notifications/cancelled.
  virtual bool cancel_in_transport(uint64_t id) { return false; }
  // Called by transports with every complete incoming message.
  void on_message(std::string_view text);
  // Transports call this once the connection is gone (runs on_closed once).
  void closed_because(std::string_view reason);

  Correlator correlator_;
  uint64_t related_ = 0;
  EventLoop& loop_;
  UpstreamOptions options_;
  bool modern_ = false;

 private:
  future<Response> raw_call(const Request& request, uint64_t* id_out);
  future<> initialize();
  // Appends the params object built from `request`'s members and _meta to `out`.
  void append_params(std::string& out, const Request& request) const;

  NotificationFn on_notification_;
  RequestFn on_request_;
  ClosedFn on_closed_;
  bool closed_reported_ = false;
  std::string version_, server_info_, capabilities_;
};

// The 2026-07-28 version string sent in _meta and the MCP-Protocol-Version header.
inline constexpr std::string_view kModernProtocol = "2026-07-28";
inline constexpr std::string_view kLegacyProtocol = "2025-11-25";

}  // namespace fa::mcp::client
