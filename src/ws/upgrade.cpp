// Upgrade: the pending 101 of one request, and the route glue that creates it.
#include <string>

#include "core/log.h"
#include "http/ascii.h"
#include "http/byte_channel.h"
#include "http/connection.h"
#include "http/server.h"
#include "ws/deflate_params.h"
#include "ws/handshake.h"
#include "ws/socket_protocol.h"
#include "ws/upgrade_route.h"

namespace fa::ws {

struct Upgrade::State {
  http::ResponseHandle handle;
  Limits limits;
  std::string accept;            // Sec-WebSocket-Accept
  std::string extension_offers;  // Sec-WebSocket-Extensions, all headers joined
  std::string path, query;
  std::vector<std::pair<std::string, std::string>> headers, params;
  std::vector<std::string> subprotocols;
  std::string peer_host;
  uint16_t peer_port = 0;
  bool secure = false;  // the connection is TLS (wss)
  bool h2 = false;  // RFC 8441: accepted with a 200 on the HTTP/2 stream, not a 101
  bool done = false;
};

Upgrade::Upgrade(std::unique_ptr<State> state) : st_(std::move(state)) {}
Upgrade::Upgrade(Upgrade&&) noexcept = default;
Upgrade& Upgrade::operator=(Upgrade&& other) noexcept {
  if (this != &other) {
    if (st_ && !st_->done) reject(403);
    st_ = std::move(other.st_);
  }
  return *this;
}
Upgrade::~Upgrade() {
  if (st_ && !st_->done) reject(403);  // Starlette: close before accept answers 403
}

bool Upgrade::pending() const {
  return st_ && !st_->done && st_->handle.alive();
}

SocketPtr Upgrade::accept(AcceptOptions options, Callbacks callbacks) {
  if (!st_ || st_->done) return nullptr;
  st_->done = true;
  if (st_->handle.client_gone()) {
    st_->handle.abort();
    return nullptr;
  }
  DeflateParams params;
  std::string extensions;
  bool deflate = st_->limits.permessage_deflate && !st_->extension_offers.empty() &&
                 negotiate_deflate(st_->extension_offers, params, extensions);
  if (st_->h2) return accept_h2(params, deflate, std::move(extensions), options, callbacks);
  std::string head =
      switching_protocols_head(st_->accept, options.subprotocol, extensions, options.headers);
  SocketPtr socket;
  SocketProtocol* proto = nullptr;
  std::weak_ptr<http::Connection> weak;
  bool ok =
      st_->handle.upgrade(head, [&](http::Connection& conn) -> std::unique_ptr<http::Protocol> {
        socket = std::make_shared<Socket>(conn, std::move(callbacks), st_->limits,
                                          deflate ? &params : nullptr,
                                          std::move(options.subprotocol), std::move(extensions));
        auto p = std::make_unique<SocketProtocol>(socket);
        proto = p.get();
        weak = conn.weak_from_this();
        return p;
      });
  if (!ok) return nullptr;
  proto->start();
  if (auto conn = weak.lock(); conn && !conn->closed()) {
    // Frames the client sent right behind its handshake are read on the next iteration, after
    // the caller holds the SocketPtr.
    if (!conn->input().empty()) {
      conn->loop().defer([weak, proto] {
        auto c = weak.lock();
        if (!c || c->closed() || c->protocol() != proto) return;
        proto->on_data(*c);
      });
    }
    conn->flush();
  }
  return socket;
}

SocketPtr Upgrade::accept_h2(const DeflateParams& params, bool deflate, std::string extensions,
                             AcceptOptions& options, Callbacks& callbacks) {
  // RFC 8441 §5: a 2xx on the stream accepts; its DATA then carry the WebSocket frames.
  std::string fields = tunnel_response_fields(options.subprotocol, extensions, options.headers);
  SocketPtr socket;
  SocketProtocol* proto = nullptr;
  bool ok = st_->handle.tunnel(http::ResponseHead{200, {}, fields},
                               [&](http::ByteChannel& channel) -> std::unique_ptr<http::Protocol> {
                                 socket = std::make_shared<Socket>(
                                     channel, st_->peer_host, st_->peer_port, std::move(callbacks),
                                     st_->limits, deflate ? &params : nullptr,
                                     std::move(options.subprotocol), std::move(extensions));
                                 auto p = std::make_unique<SocketProtocol>(socket);
                                 proto = p.get();
                                 return p;
                               });
  if (!ok || !proto) return nullptr;
  proto->start();  // input already received is delivered on the loop's next turn
  return socket;
}

void Upgrade::reject(int status, std::string_view body) {
  if (!st_ || st_->done) return;
  st_->done = true;
  std::string_view type = body.empty() ? std::string_view() : "text/plain; charset=utf-8";
  st_->handle.send(http::ResponseHead{status, type, {}}, body);
}

std::string_view Upgrade::path() const {
  return st_ ? std::string_view(st_->path) : std::string_view();
}
std::string_view Upgrade::query() const {
  return st_ ? std::string_view(st_->query) : std::string_view();
}

std::string_view Upgrade::header(std::string_view name) const {
  if (!st_) return {};
  for (const auto& [n, v] : st_->headers)
    if (http::ascii_iequals(n, name)) return v;
  return {};
}

namespace {
const std::vector<std::pair<std::string, std::string>> kNoPairs;
const std::vector<std::string> kNoStrings;
const std::string kNoString;
}  // namespace

const std::vector<std::pair<std::string, std::string>>& Upgrade::headers() const {
  return st_ ? st_->headers : kNoPairs;
}
const std::vector<std::pair<std::string, std::string>>& Upgrade::params() const {
  return st_ ? st_->params : kNoPairs;
}
std::string_view Upgrade::param(std::string_view name) const {
  if (!st_) return {};
  for (const auto& [n, v] : st_->params)
    if (n == name) return v;
  return {};
}
const std::vector<std::string>& Upgrade::subprotocols() const {
  return st_ ? st_->subprotocols : kNoStrings;
}
const std::string& Upgrade::peer_host() const {
  return st_ ? st_->peer_host : kNoString;
}
uint16_t Upgrade::peer_port() const {
  return st_ ? st_->peer_port : 0;
}
bool Upgrade::secure() const {
  return st_ && st_->secure;
}

void start_upgrade(http::Request& req, http::Response& res, const UpgradeHandler& handler,
                   const Limits& limits) {
  bool h2 = is_extended_connect(req.head);
  HandshakeCheck check = h2 ? check_h2_handshake(req.head) : check_handshake(req.head);
  if (check.status != 0) {
    std::string body(check.reason);
    body += "\n";
    res.send(http::ResponseHead{check.status, "text/plain; charset=utf-8",
                                check.status == 426
                                    ? (h2 ? std::string_view("Sec-WebSocket-Version: 13\r\n")
                                          : kUpgradeRequiredHeaders)
                                    : std::string_view()},
             body);
    return;
  }
  auto st = std::make_unique<Upgrade::State>();
  st->limits = limits;
  st->h2 = h2;
  if (!h2) st->accept = accept_key(check.key);
  st->extension_offers = joined_header(req.head, "sec-websocket-extensions");
  st->path.assign(req.head.path);
  st->query.assign(req.head.query);
  st->headers.reserve(req.head.num_headers);
  for (size_t i = 0; i < req.head.num_headers; ++i)
    st->headers.emplace_back(req.head.headers[i].name, req.head.headers[i].value);
  for (size_t i = 0; i < req.route.num_params; ++i)
    st->params.emplace_back(req.route.params[i].name, req.route.params[i].value);
  st->subprotocols = requested_subprotocols(req.head);
  st->peer_host = req.peer.host;
  st->peer_port = req.peer.port;
  st->secure = req.peer.tls;
  st->handle = res.detach();
  handler(req, Upgrade(std::move(st)));
}

}  // namespace fa::ws

namespace fa::http {

void Server::websocket(std::string_view pattern, ws::UpgradeHandler handler, ws::Limits limits) {
  route("GET", pattern, [handler = std::move(handler), limits](Request& req, Response& res) {
    ws::start_upgrade(req, res, handler, limits);
  });
}

}  // namespace fa::http
