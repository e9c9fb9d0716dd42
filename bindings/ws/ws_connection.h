// fasterapi._native.WebSocketConnection: one WebSocket upgrade as Python sees it (the pending
// handshake, then the open socket), and the UpgradeHandler that hands it to a Python route.
#pragma once

#include <nanobind/nanobind.h>

#include "ws/ws_server.h"

namespace fa::py {

// The engine's handler for a Python WebSocket route: per valid upgrade request it builds a
// WebSocketConnection and calls start(conn) (fasterapi/_ws_endpoint.py). A start that raises
// is reported as unraisable and the handshake is refused with 403 (the Upgrade is dropped).
ws::UpgradeHandler python_upgrade_handler(nanobind::object start);

// WebSocketConnection, EncodedFrame and websocket_encode_frame().
void register_ws(nanobind::module_& m);

}  // namespace fa::py
