// Server: listening socket(s), accepted connections, routes and handlers, graceful shutdown.
// Single-threaded: everything runs on the EventLoop it is given.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "http/date_cache.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server_config.h"
#include "tls/tls_context.h"
#include "ws/ws_server.h"

namespace fa::http {

class Connection;
struct Peer;
using Handler = std::function<void(Request&, Response&)>;

class Server {
 public:
  Server(EventLoop& loop, ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers a handler. Throws RouteError on a bad pattern or a conflict.
  void route(std::string_view method, std::string_view pattern, Handler handler);
  // As route(), and a body past kStreamBodyThreshold (or chunked) is not read before the
  // handler runs: it sees Request::body_streamed and reads with ResponseHandle::read_body.
  void route_streaming(std::string_view method, std::string_view pattern, Handler handler);
  bool streams_body(uint32_t id) const { return id < streams_body_.size() && streams_body_[id]; }
  bool has_streaming_routes() const { return !streams_body_.empty(); }
  // Registers a WebSocket route (RFC 6455) on the same router: a GET with a valid upgrade
  // handshake goes to `handler` with the pending Upgrade; a bad handshake gets 400, a plain GET
  // or another version 426. Throws RouteError like route(). Defined in src/ws/.
  void websocket(std::string_view pattern, ws::UpgradeHandler handler, ws::Limits limits = {});

  // Called for requests no route matches, instead of the engine's own 404/405. The handler
  // sees `req.route.status` (kNotFound or kMethodNotAllowed) and `req.route.allow`. An
  // application uses it to run its middleware and error handlers on those answers too.
  void set_fallback(Handler handler) { fallback_ = std::move(handler); }
  const Handler* fallback() const { return fallback_ ? &fallback_ : nullptr; }

  // Told of every error the engine answers by itself (400, 408, 413, 414, 431, 501, 505 and
  // the like, then closing the connection), for an access log: the peer, the status, the
  // reason, and the request line when the head was parsed (else empty).
  using ErrorObserver =
      std::function<void(const Peer&, int status, std::string_view reason, std::string_view request_line)>;
  void set_error_observer(ErrorObserver fn) { error_observer_ = std::move(fn); }
  const ErrorObserver& error_observer() const { return error_observer_; }

  // Binds and listens. Returns the bound port. Throws std::system_error, or tls::TlsError
  // when config().tls is set and OpenSSL refuses it.
  uint16_t listen();
  // Re-reads the TLS certificates and keys (SIGHUP): new connections take the new context,
  // open ones keep theirs. Returns "" on success, else the reason (the old context stays).
  std::string reload_tls();
  bool tls() const { return tls_ != nullptr; }
  // Stops accepting, closes idle connections, lets in-flight exchanges finish; connections
  // still open after `grace` are closed.
  void shutdown(Duration grace);
  // Closes the listener and every connection now.
  void close();

  size_t connections() const { return conns_.size(); }
  // Connections whose output is not all handed to the kernel yet: a graceful stop waits for
  // them (an exchange ends when its response is queued, not when it is written).
  size_t writing() const;
  size_t in_flight() const { return in_flight_; }
  bool draining() const { return draining_; }

  EventLoop& loop() { return loop_; }
  const ServerConfig& config() const { return config_; }
  // Changes the compression settings (before listen(); applies to exchanges begun after it).
  void set_compression(const compress::CompressionConfig& c) { config_.compression = c; }
  // Turns TLS on (before listen()); certificates and keys are read by listen().
  void set_tls(const tls::TlsConfig& t) { config_.tls = t; }
  const Router& router() const { return router_; }
  const Handler& handler(uint32_t id) const { return handlers_[id]; }
  DateCache& date() { return date_; }

  // Bookkeeping called by connections and protocols.
  void exchange_started() { ++in_flight_; }
  void exchange_finished() { --in_flight_; }
  void release(Connection* conn);

 private:
  class Listener;
  void accept_ready();
  void adopt(int fd, const sockaddr_storage& peer);  // a new connection on an accepted socket
  void ring_accept();  // io_uring: arms the listener's multishot accept
  void sweep();  // once a second: deadlines, Date header

  EventLoop& loop_;
  ServerConfig config_;
  Router router_;
  std::vector<Handler> handlers_;
  std::vector<bool> streams_body_;  // by handler id; empty while no route streams
  Handler fallback_;
  ErrorObserver error_observer_;
  std::unique_ptr<Listener> listener_;
  std::shared_ptr<const tls::TlsContext> tls_;  // null: plain TCP
  std::unordered_map<Connection*, std::shared_ptr<Connection>> conns_;
  DateCache date_;
  TimerId sweep_timer_ = 0;
  TimerId grace_timer_ = 0;
  size_t in_flight_ = 0;
  bool draining_ = false;
};

}  // namespace fa::http
