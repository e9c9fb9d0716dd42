// The HTTP side of a WebSocket route: checks the handshake of a GET routed to a websocket()
// pattern and hands the pending Upgrade to the application's handler.
#pragma once

#include "http/request.h"
#include "http/response.h"
#include "ws/ws_server.h"

namespace fa::ws {

// Answers 400/426 for a bad handshake; otherwise calls `handler` with an Upgrade that owns the
// exchange (dropped unanswered: 403).
void start_upgrade(http::Request& req, http::Response& res, const UpgradeHandler& handler,
                   const Limits& limits);

}  // namespace fa::ws
