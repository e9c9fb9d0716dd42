// HttpUpstream: an MCP server reached over Streamable HTTP (basic/transports.mdx), as a client:
// each message is a POST with `Accept: application/json, text/event-stream`; the answer is a
// JSON body or an SSE stream carrying the request's notifications and then its response
// (parsed by HttpResponseParser / SseParser). Keep-alive connections in a small pool per
// upstream; Mcp-Session-Id kept from initialize; MCP-Protocol-Version, and in the 2026-07-28
// era Mcp-Method / Mcp-Name, on every request. A POST's SSE stream that ends before its answer
// is resumed with GET + Last-Event-ID after the server's retry delay; a session gets the
// standalone GET stream for what the server sends outside any request (listen()); shutdown()
// sends DELETE for the session. https:// runs the same exchanges over TLS (src/tls
// TlsClientContext, TlsTransport in the client role): certificate and host name verified by
// default.
#pragma once

#include <sys/socket.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mcp/client/upstream.h"
#include "tls/tls_client.h"

namespace fa::mcp::client {

struct HttpUpstreamOptions {
  size_t max_connections = 8;
  // Extra request headers, preformatted "Name: value\r\n" (the upstream's own credentials).
  std::string headers;
  // Open the standalone GET stream once a 2025-11-25 session exists (listen()).
  bool listen = true;
  // https:// only: verify the server's certificate (chain and host name), against `cafile`
  // (PEM) when given, else the system trust store.
  bool tls_verify = true;
  std::string tls_cafile;
  // DPoP (RFC 9449 §7): when set, every request also carries `DPoP: <proof>`, the proof this
  // function makes for (HTTP method, target URL, nonce), the nonce being the last `DPoP-Nonce`
  // the server sent (empty before any). The caller's Authorization header says `DPoP <token>`.
  std::function<std::string(std::string_view htm, std::string_view htu, std::string_view nonce)>
      dpop;
};

// http://host[:port]/path or https://host[:port]/path split into its parts (default ports 80
// and 443); false for anything else.
struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
  bool tls = false;
  // The Host header's value (RFC 9110 §7.2): the port only when it is not the scheme's default.
  std::string authority() const;
};
bool parse_http_url(std::string_view url, HttpUrl& out);

// Appends a header value as 2026-07-28 streamable-http.mdx "Value Encoding" says: as is when it
// is visible ASCII without leading or trailing spaces (and not shaped like the sentinel), else
// `=?base64?<base64 of its bytes>?=`.
void append_header_value(std::string& out, std::string_view value);
// True when `name` is an RFC 9110 token (1*tchar): what an HTTP field name may be.
bool is_token(std::string_view name);

class HttpUpstream final : public Upstream {
 public:
  static std::shared_ptr<HttpUpstream> create(EventLoop& loop, const HttpUrl& url,
                                              UpstreamOptions options = {},
                                              HttpUpstreamOptions http = {});
  ~HttpUpstream() override;

  void close() override;
  // False once closed, or once the server forgot our session (404: transports.mdx "Session
  // Management"); the owner then makes a new upstream, which initializes again.
  bool alive() const override { return !closed_ && !expired_; }
  const std::string& session_id() const { return session_id_; }
  // Replaces the extra request headers (preformatted "Name: value\r\n"): a refreshed or
  // stepped-up Authorization (basic/authorization.mdx "Access Token Usage") for later requests.
  void set_headers(std::string headers) { http_.headers = std::move(headers); }
  // Sets (or, empty, removes) the DPoP proof maker (HttpUpstreamOptions::dpop).
  void set_dpop(decltype(HttpUpstreamOptions::dpop) dpop) { http_.dpop = std::move(dpop); }
  // The last DPoP-Nonce the server sent (RFC 9449 §9), empty when none.
  const std::string& dpop_nonce() const { return dpop_nonce_; }
  size_t connections() const { return conns_.size(); }
  size_t connects() const { return connects_; }  // connections opened so far (keep-alive test)
  bool listening() const { return listener_ != nullptr; }

  void listen() override;
  future<> shutdown() override;

 protected:
  future<> open() override;
  void send_request(uint64_t id, std::string&& body, const Request& request) override;
  void send_notification(std::string&& body) override;
  bool cancel_in_transport(uint64_t id) override;

 private:
  class Conn;
  enum class Kind : uint8_t {
    kPost,    // a message POSTed (id != 0: a request, whose answer may come as SSE)
    kResume,  // GET + Last-Event-ID resuming request `id`'s SSE stream
    kListen,  // the standalone GET stream
    kDelete,  // DELETE of the session
  };
  struct Pending {
    uint64_t id = 0;       // 0 for a notification or response (answered 202)
    std::string bytes;     // the HTTP request's head (a bodiless one: all of it)
    std::string body;      // the request's body, sent after `bytes`
    bool retried = false;  // already re-sent once after a stale keep-alive connection
    Kind kind = Kind::kPost;
    std::string last_event_id;        // kResume/kListen: the stream resumes after this event
    uint64_t retry_ms = 0;            // the server's last `retry` on this stream
    int attempts = 0;                 // resumptions (kResume) or failures in a row (kListen)
    std::shared_ptr<promise<>> done;  // kDelete: set when the exchange ends
  };
  // How one exchange ended, as the connection saw it.
  struct Ending {
    int status = 0;
    bool sse = false;
    size_t events = 0;
    std::string last_event_id;
    bool has_retry = false;
    uint64_t retry_ms = 0;
    std::string www_authenticate;  // of a 401/403 (RFC 6750 §3, RFC 9728 §5.1)
  };
  HttpUpstream(EventLoop& loop, const HttpUrl& url, UpstreamOptions options,
               HttpUpstreamOptions http);
  std::string head(size_t body_size, const Request* request) const;
  std::string bodiless_head(std::string_view method, std::string_view last_event_id) const;
  void ended(const std::shared_ptr<Conn>& conn, Pending p, const Ending& e, bool reusable);
  void resume_later(Pending p, uint64_t delay_ms);
  void open_listener(std::string last_event_id, int attempts, uint64_t retry_ms);
  void listener_ended(Pending p, size_t events, uint64_t delay_ms);
  void enqueue(Pending&& p);
  void dispatch();
  std::shared_ptr<Conn> connect(bool pooled = true);
  void exchange_done(const std::shared_ptr<Conn>& conn, bool reusable);
  void failed(const std::shared_ptr<Conn>& conn, Pending p, bool stale, std::string_view why);
  void fail_id(uint64_t id, std::string_view why);
  void on_head_seen(std::string_view session_id, std::string_view dpop_nonce);
  void append_dpop(std::string& h, std::string_view method) const;
  // A request about to be sent again (failed()): its DPoP proof replaced by a fresh one.
  void renew_dpop(std::string& bytes) const;
  friend class Conn;

  HttpUrl url_;
  std::string post_prefix_;  // "POST <path> HTTP/1.1\r\nHost: ...Content-Length: "
  HttpUpstreamOptions http_;
  std::shared_ptr<const tls::TlsClientContext> tls_;  // https: built by open()
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::shared_ptr<Conn> listener_, closer_;  // outside the pool: the GET stream, the DELETE
  std::deque<Pending> queue_;
  std::string session_id_;
  std::string dpop_nonce_;
  size_t connects_ = 0;
  bool closed_ = false, expired_ = false;
};

}  // namespace fa::mcp::client
