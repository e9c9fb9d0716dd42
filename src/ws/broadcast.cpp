// Broadcast: the encoded bytes are copied into each connection's write queue; no per-socket
// framing or compression work.
#include "ws/broadcast.h"

namespace fa::ws {

size_t broadcast(std::span<const SocketPtr> sockets, const EncodedFrame& frame) {
  size_t ok = 0;
  for (const SocketPtr& s : sockets)
    if (s && s->send_frame(frame)) ++ok;
  return ok;
}

}  // namespace fa::ws
