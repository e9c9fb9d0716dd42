// HttpTransport: MCP Streamable HTTP (basic/transports.mdx "Streamable HTTP") on our HTTP/1.1
// engine: POST carries one message (answered with application/json, or text/event-stream once
// the request sends notifications before its response), GET opens the session's SSE stream,
// DELETE ends a session; Mcp-Session-Id sessions, MCP-Protocol-Version checks, 202 for
// notifications and responses, Origin/Host validation against DNS rebinding.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "http/server.h"
#include "mcp/event_log.h"
#include "mcp/http_auth.h"
#include "mcp/http_exchange.h"
#include "mcp/http_guard.h"
#include "mcp/server_core.h"

namespace fa::mcp {

struct HttpOptions {
  std::string host = "127.0.0.1";  // loopback by default (transports.mdx: bind to localhost)
  uint16_t port = 8000;            // 0 = ephemeral
  std::string path = "/mcp";
  std::vector<std::string> allowed_origins;
  std::vector<std::string> allowed_hosts;
  // At most this many live sessions (0: no limit); an initialize beyond it gets 503, as the
  // official SDK answers. Live sessions are never evicted for a newcomer.
  size_t max_sessions = 10000;
  // A session with no request for this long and no open GET or POST stream is ended as DELETE
  // ends it; its id then gets 404 and the client re-initializes (transports.mdx "Session
  // Management"). 0: sessions live until DELETE. The official SDK's default: 30 minutes.
  std::chrono::milliseconds session_idle_timeout = std::chrono::minutes(30);
  // An SSE comment (": ping") on every open stream of a session (its GET stream, its POST
  // streams) this often, as the official SDK's SSE responses send one every 15 s: proxies that
  // cut idle connections keep the stream, and a client that vanished without a FIN is found
  // when the write fails, so its session can expire. 0: never. Needs the transport's loop.
  std::chrono::milliseconds sse_ping_interval = std::chrono::seconds(15);
  // Bearer authorization (basic/authorization.mdx); null: requests are not authenticated.
  std::shared_ptr<const HttpAuth> auth;
};

class HttpTransport {
 public:
  // kOwn: a listener of its own (listen()) at options.path. kNone: only the exchanges handed to
  // serve(), from a front that listens itself (the proxy's, with its rate limit ahead) or an
  // App's routes whose loop is driven.
  enum class Listener : bool { kNone, kOwn };
  // Either way its timers run on `loop`: the hung-up-client sweep and idle-session expiry.
  HttpTransport(EventLoop& loop, ServerCore& core, HttpOptions options,
                Listener listener = Listener::kOwn);
  // Serves only exchanges handed to it and has no timers: hung-up clients are not noticed and
  // idle sessions are looked for before each exchange (an App whose MCP loop nobody drives).
  HttpTransport(ServerCore& core, HttpOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Binds and listens; returns the bound port. Throws std::system_error.
  uint16_t listen();
  // Serves one exchange addressed to the MCP path (POST, GET or DELETE).
  void serve(http::Request& req, http::Response& res);
  void serve(const HttpRequestView& req, std::shared_ptr<HttpResponder> res);
  // GET of the Protected Resource Metadata (RFC 9728 §3): the document, or 404 without auth.
  void serve_metadata(HttpResponder& res) const;
  size_t sessions() const { return sessions_.size(); }
  // Ends the sessions idle past options.session_idle_timeout at `now`; returns how many. Runs
  // from the sweep timer (with a loop) or before an exchange (without one); public for tests.
  size_t expire_idle(TimePoint now);

 private:
  struct Entry {
    std::shared_ptr<Session> session;
    std::shared_ptr<HttpResponder> stream;  // the GET stream, if open
    std::shared_ptr<EventLog> log;          // SSE events kept for Last-Event-ID replay
    std::unordered_map<uint64_t, std::weak_ptr<Channel>> streams;  // POST streams by number
    TimePoint last_active{};  // the latest request, or the latest sweep that saw a stream open
  };
  using Res = std::shared_ptr<HttpResponder>;
  void post(const HttpRequestView& req, const Res& res);
  void get(const HttpRequestView& req, const Res& res);
  void remove(const HttpRequestView& req, const Res& res);
  // Finds the request's session; answers 400/404 itself and returns null when it cannot.
  Entry* session_of(const HttpRequestView& req, const Res& res);
  // Builds the listener of our own (listen() binds it) with the MCP path's routes.
  void listen_on(EventLoop& loop);
  static void refuse(HttpResponder& res, int status, std::string_view message);
  // The one sweep timer (every quarter of the idle timeout, at least once a second), with or
  // without a listener of our own: requests whose client hung up while the call still runs
  // are cancelled, and idle sessions expire.
  void sweep();
  void sweep_gone_clients();
  // Writes the keep-alive comment to every open stream of every session.
  void ping_streams();
  // Ends a session as DELETE does: its in-flight requests cancelled, its GET stream closed.
  void end(std::unordered_map<std::string, Entry>::iterator it);
  TimePoint now() const { return loop_ ? loop_->now() : Clock::now(); }

  struct Watched {
    std::weak_ptr<HttpResponder> res;
    std::function<void()> cancel;
  };
  std::vector<Watched> watched_;
  EventLoop* loop_ = nullptr;
  TimerId sweep_timer_ = 0;
  Duration sweep_period_{};
  TimePoint next_expiry_{};  // the next idle scan
  TimePoint next_ping_{};    // the next keep-alive comment on open streams

  ServerCore& core_;
  HttpOptions options_;
  HttpGuard guard_;
  std::unique_ptr<http::Server> server_;
  std::unordered_map<std::string, Entry> sessions_;
  Parser peek_;         // reads a session-less POST to see whether it is initialize
  std::string claims_;  // the current request's verified claims (with auth)
};

}  // namespace fa::mcp
