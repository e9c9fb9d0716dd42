// Protocol: what runs on a connection's bytes (HTTP/1.1 now; TLS-wrapped, HTTP/2 and WebSocket
// plug in here). The Connection owns I/O; a Protocol never touches the socket directly.
#pragma once

#include "core/event_loop.h"

namespace fa::http {

class Connection;

class Protocol {
 public:
  virtual ~Protocol() = default;
  // New bytes were appended to conn.input(); consume what is used, append replies to
  // conn.output(). The connection flushes after this returns.
  virtual void on_data(Connection& conn) = 0;
  // Output drained below the low-water mark (resume producers).
  virtual void on_drain(Connection& conn) {}
  // The peer shut down its sending side (EOF/RDHUP); replies may still be written.
  virtual void on_peer_closed(Connection& conn) {}
  // The connection is going away: drop references to it.
  virtual void on_close(Connection& conn) {}
  // The connection's deadline passed (see Connection::set_deadline).
  virtual void on_timeout(Connection& conn) = 0;
  // The server is draining: finish the current exchange, then close.
  virtual void on_shutdown(Connection& conn) = 0;
  // True when no request is in progress (nothing would be lost by closing now).
  virtual bool idle() const = 0;
};

}  // namespace fa::http
