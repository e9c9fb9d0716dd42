// HttpTransport: MCP Streamable HTTP (basic/transports.mdx "Streamable HTTP") on our HTTP/1.1
// engine: POST carries one message (answered with application/json, or text/event-stream once
// the request sends notifications before its response), GET opens the session's SSE stream,
// DELETE ends a session; Mcp-Session-Id sessions, MCP-Protocol-Version checks, 202 for
// notifications and responses, Origin/Host validation against DNS rebinding.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "http/server.h"
#include "mcp/http_exchange.h"
#include "mcp/event_log.h"
#include "mcp/http_auth.h"
#include "mcp/http_guard.h"
#include "mcp/server_core.h"

namespace fa::mcp {

struct HttpOptions {
  std::string host = "127.0.0.1";  // loopback by default (transports.mdx: bind to localhost)
  uint16_t port = 8000;            // 0 = ephemeral
  std::string path = "/mcp";
  std::vector<std::string> allowed_origins;
  std::vector<std::string> allowed_hosts;
  size_t max_sessions = 10000;  // beyond this, new sessions get 503 (bounds memory per server)
  // Bearer authorization (basic/authorization.mdx); null: requests are not authenticated.
  std::shared_ptr<const HttpAuth> auth;
};

class HttpTransport {
 public:
  // Serves on its own listener (listen()) at options.path.
  HttpTransport(EventLoop& loop, ServerCore& core, HttpOptions options);
  // Serves only exchanges handed to it (an App mounting the server on its own routes).
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

 private:
  struct Entry {
    std::shared_ptr<Session> session;
    std::shared_ptr<HttpResponder> stream;  // the GET stream, if open
    std::shared_ptr<EventLog> log;          // SSE events kept for Last-Event-ID replay
    std::unordered_map<uint64_t, std::weak_ptr<Channel>> streams;  // POST streams by number
  };
  using Res = std::shared_ptr<HttpResponder>;
  void post(const HttpRequestView& req, const Res& res);
  void get(const HttpRequestView& req, const Res& res);
  void remove(const HttpRequestView& req, const Res& res);
  // Finds the request's session; answers 400/404 itself and returns null when it cannot.
  Entry* session_of(const HttpRequestView& req, const Res& res);
  static void refuse(HttpResponder& res, int status, std::string_view message);
  // Once a second: requests whose client hung up while the tool still runs are cancelled.
  void sweep_gone_clients();

  struct Watched {
    std::weak_ptr<HttpResponder> res;
    std::function<void()> cancel;
  };
  std::vector<Watched> watched_;
  EventLoop* loop_ = nullptr;
  TimerId sweep_timer_ = 0;

  ServerCore& core_;
  HttpOptions options_;
  HttpGuard guard_;
  std::unique_ptr<http::Server> server_;
  std::unordered_map<std::string, Entry> sessions_;
  Parser peek_;  // reads a session-less POST to see whether it is initialize
  std::string claims_;  // the current request's verified claims (with auth)
};

}  // namespace fa::mcp
