// SocketProtocol: the http::Protocol a connection runs after the 101 (installed with
// Connection::switch_protocol); forwards the connection's events to its ws::Socket.
#pragma once

#include "http/connection.h"
#include "http/protocol.h"
#include "ws/ws_server.h"

namespace fa::ws {

class SocketProtocol final : public http::Protocol {
 public:
  explicit SocketProtocol(SocketPtr socket) : socket_(std::move(socket)) {}

  // Called once the connection runs this protocol. Input is held back until then, so the
  // accepting code has its SocketPtr before the first message (see Upgrade::accept).
  void start() {
    started_ = true;
    socket_->arm_ping();
  }

  void on_data(http::Connection&) override {
    if (started_) socket_->on_data();
  }
  void on_drain(http::Connection&) override { socket_->on_drain(); }
  void on_peer_closed(http::Connection&) override { socket_->on_peer_closed(); }
  void on_close(http::Connection&) override { socket_->on_connection_closed(); }
  void on_timeout(http::Connection&) override { socket_->on_timeout(); }
  void on_shutdown(http::Connection&) override { socket_->on_shutdown(); }
  bool idle() const override { return false; }  // closing now would skip the close handshake

 private:
  SocketPtr socket_;
  bool started_ = false;
};

}  // namespace fa::ws
