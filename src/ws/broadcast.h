// Broadcast: one message to many sockets, encoded once (issue 10 item 3). The frame is sent
// uncompressed (RSV1 clear), which is valid on every connection, deflate or not (RFC 7692 §6).
#pragma once

#include <span>

#include "ws/frame.h"
#include "ws/ws_server.h"

namespace fa::ws {

// Queues `frame` on every open socket. Returns how many took it without passing their
// high-water mark; the others still got it queued if open (watch their on_drain).
size_t broadcast(std::span<const SocketPtr> sockets, const EncodedFrame& frame);

}  // namespace fa::ws
