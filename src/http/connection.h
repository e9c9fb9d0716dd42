// Connection: one accepted TCP socket: input buffer, write queue, read/write interest,
// backpressure, deadline, graceful close. Protocol logic lives in a Protocol.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/byte_buffer.h"
#include "core/event_loop.h"
#include "core/transport.h"
#include "core/uring_ring.h"
#include "core/write_queue.h"
#include "http/protocol.h"

namespace fa::tls {
struct TlsInfo;
}

namespace fa::http {

class Server;

struct Peer {
  std::string host;
  uint16_t port = 0;
  bool tls = false;                              // reached us over TLS (scheme https)
  std::shared_ptr<const tls::TlsInfo> tls_info;  // set once the TLS handshake is done
};

// On the io_uring backend a plain-TCP connection moves its bytes with completion ops (multishot
// recv into provided buffers, sends of the write queue's own buffer or a copy: see
// connection_uring.cpp) instead of readiness + read/write; TLS connections keep readiness
// (poll SQEs on the ring), like everything else not ported.
class Connection final : public IoHandler,
                         public UringCompletion,
                         public std::enable_shared_from_this<Connection> {
 public:
  // `transport` null: plain TCP.
  Connection(Server& server, int fd, const sockaddr_storage& peer,
             std::unique_ptr<Transport> transport = nullptr);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the loop and starts reading with `protocol`.
  void start(std::unique_ptr<Protocol> protocol);
  // Replaces the protocol (HTTP upgrade); the new one sees the unconsumed input.
  void switch_protocol(std::unique_ptr<Protocol> protocol);

  ByteBuffer& input() { return in_; }
  Protocol* protocol() const { return protocol_.get(); }
  WriteQueue& output() { return out_; }
  Server& server() { return server_; }
  EventLoop& loop();
  const Peer& peer();
  int fd() const { return fd_; }
  // TLS: whether the bytes are encrypted, and the ALPN protocol ("h2", "http/1.1"; empty when
  // none was negotiated). Both are final by the time a protocol first sees data.
  bool secure() const { return transport_->secure(); }
  std::string_view alpn() const { return transport_->alpn(); }

  // Writes queued output now; arms EPOLLOUT for the rest. Closes on a hard error.
  void flush();
  // Queued output, counting what an io_uring send in flight still holds.
  size_t queued() const { return out_.size() + (inflight_.size() - inflight_off_); }
  // True when queued output is past the high-water mark (producers should wait for on_drain).
  bool over_high_water() const;
  // Stop/resume reading from the socket (a request is in flight, or backpressure).
  void pause_reading();
  void resume_reading();
  bool reading() const { return reading_; }
  bool peer_closed() const { return peer_closed_; }

  // Graceful close: flush what is queued, shut down the write side, drain input briefly, close.
  void close_after_flush();
  // Immediate close (errors, shutdown deadline).
  void close_now();
  bool closing() const { return closing_; }
  bool closed() const { return fd_ < 0; }

  // The protocol's deadline (header, body, idle), checked by the server's sweep (1 s
  // granularity). While output is queued it waits: the send timeout governs then.
  void set_deadline(Duration from_now) {
    deadline_ = loop_now() + from_now;
    idle_after_flush_ = Duration::zero();
  }
  void clear_deadline() {
    deadline_ = TimePoint::max();
    idle_after_flush_ = Duration::zero();
  }
  // Keep-alive idle: the deadline starts once every queued byte has been written, so a large
  // response to a slow reader is not cut off by the idle timer.
  void set_idle_deadline(Duration from_now);
  // The earliest of the protocol deadline and the send-progress deadline.
  TimePoint deadline() const { return deadline_ < send_deadline_ ? deadline_ : send_deadline_; }
  // Called by the server sweep when now >= deadline().
  void on_deadline(TimePoint now);
  // Called by the server when it starts draining.
  void on_server_shutdown();
  bool idle() const { return !protocol_ || protocol_->idle(); }

  void on_io(uint32_t events) override;
  void on_uring(Op op, int res, bool more, const char* data) override;

 private:
  // The io_uring path (connection_uring.cpp).
  bool ring_mode() const { return ring_ != nullptr; }
  void read_held_input_later();  // TLS read-ahead held more than the last read took
  void ring_start();
  void ring_arm_recv();
  void ring_update();
  void ring_flush();
  void ring_on_recv(int res, bool more, const char* data);
  void ring_on_send(int res);
  void ring_op_started();
  void ring_op_finished();
  void ring_post();
  void ring_on_posted();

  TimePoint loop_now();
  void do_read();
  void update_interest();
  void finish_close();

  Server& server_;
  int fd_;
  sockaddr_storage peer_addr_;
  Peer peer_;
  bool peer_resolved_ = false;
  std::unique_ptr<Transport> transport_;  // PlainTransport or tls::TlsTransport
  ByteBuffer in_;
  WriteQueue out_;
  std::unique_ptr<Protocol> protocol_;
  uint32_t interest_ = 0;
  bool reading_ = true;
  bool peer_closed_ = false;
  bool closing_ = false;     // close after the queued output is written
  bool lingering_ = false;   // write side shut; discarding input until EOF or deadline
  bool input_held_ = false;  // the transport holds input epoll cannot see (TLS read-ahead)
  TimePoint deadline_ = TimePoint::max();
  Duration idle_after_flush_ = Duration::zero();  // set_idle_deadline while output was queued
  // Output is queued and the peer has taken none of it since this time + send_timeout: a
  // peer that stops reading is closed (slow-read DoS), whatever the protocol is doing.
  TimePoint send_deadline_ = TimePoint::max();
  // io_uring (null: epoll). While ops are in flight the connection holds itself alive: the
  // kernel still writes to its buffers and will complete them.
  UringRing* ring_ = nullptr;
  EventLoop* ring_loop_ = nullptr;  // the server's loop: completions may outlive the server
  std::shared_ptr<Connection> ring_self_;
  int ring_ops_ = 0;
  bool recv_armed_ = false;
  bool recv_held_ = false;       // input arrived while not reading; the protocol has not seen it
  bool in_completion_ = false;   // inside on_uring: it flushes once at its end
  bool flush_deferred_ = false;  // a flush is deferred to the next iteration (ring_update)
  bool held_deferred_ = false;   // held input is handed over on the next iteration (ring_update)
  bool send_inflight_ = false;
  std::string inflight_;     // the bytes of the send in flight (taken or copied from out_)
  size_t inflight_off_ = 0;  // of them, already sent
};

}  // namespace fa::http
