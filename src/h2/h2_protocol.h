// H2Protocol: HTTP/2 on one connection (RFC 9113) with nghttp2 as the frame and HPACK engine.
// No I/O of its own: bytes come in through on_data (conn.input()) and go out through the
// connection's write queue. Each stream becomes the same Request/Response a HTTP/1.1 handler
// sees (one router, one dispatch path); Response/ResponseHandle reach it through http::Exchange
// with the stream id as the exchange serial.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "h2/frame_guard.h"
#include "h2/h2_stream.h"
#include "h2/h2c_upgrade.h"
#include "http/protocol.h"
#include "http/response.h"

namespace fa::http {
class Server;
}

namespace fa::h2 {

// What we announce in SETTINGS (RFC 9113 §6.5.2) and hold streams to.
struct H2Limits {
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_window = 1024 * 1024;  // per stream, for request bodies
  // The connection's receive window. Bytes are given back to it as they arrive (each stream's
  // own window bounds what is buffered), so it only paces uploads: RFC 9113 §6.9.2 leaves it
  // at 65,535 until a WINDOW_UPDATE, one round trip per 32 KiB on a distant client.
  uint32_t connection_window = 16 * 1024 * 1024;
  uint32_t header_table_size = 4096;      // HPACK dynamic table (RFC 7541 §4.2)
  size_t stream_high_water = 256 * 1024;  // response bytes buffered per stream
  size_t stream_low_water = 64 * 1024;    // ...at which its producer resumes
};

class H2Protocol final : public http::Protocol, public http::Exchange {
 public:
  H2Protocol(http::Server& server, http::Connection& conn, GuardLimits guard = {});
  ~H2Protocol() override;

  // h2c by Upgrade (RFC 7540 §3.2): the protocol that takes `head` over as stream 1 (answered
  // on the loop's next turn), or null when `head` is not an acceptable h2c upgrade (over TLS,
  // a body, a bad HTTP2-Settings) and HTTP/1.1 answers it. The caller writes kSwitchingToH2c
  // and switches the connection to it.
  static std::unique_ptr<H2Protocol> from_upgrade(http::Server& server, http::Connection& conn,
                                                  const http::RequestHead& head);

  // Protocol
  void on_data(http::Connection& conn) override;
  void on_drain(http::Connection& conn) override;
  void on_peer_closed(http::Connection& conn) override;
  void on_close(http::Connection& conn) override;
  void on_timeout(http::Connection& conn) override;
  void on_shutdown(http::Connection& conn) override;
  bool idle() const override { return streams_.empty(); }

  // Exchange (serial = stream id)
  bool exchange_open(uint64_t serial) const override;
  bool started(uint64_t serial) const override;
  bool send(http::Connection& conn, uint64_t serial, const http::ResponseHead& head,
            std::string_view body) override;
  bool start(http::Connection& conn, uint64_t serial, const http::ResponseHead& head) override;
  bool write(http::Connection& conn, uint64_t serial, std::string_view chunk) override;
  bool end(http::Connection& conn, uint64_t serial) override;
  bool set_drain_callback(uint64_t serial, std::function<void()> fn) override;
  bool set_done_callback(uint64_t serial, std::function<void()> fn) override;
  bool upgrade(http::Connection&, uint64_t, std::string_view,
               std::unique_ptr<http::Protocol>) override {
    return false;  // no Upgrade inside HTTP/2 (RFC 9113 §8.6): extended CONNECT instead
  }
  // RFC 8441: answers an extended CONNECT with `head` and keeps its stream open as a
  // StreamChannel (h2/stream_channel.h) driven by the protocol `bind` returns.
  bool tunnel(
      http::Connection& conn, uint64_t serial, const http::ResponseHead& head,
      const std::function<std::unique_ptr<http::Protocol>(http::ByteChannel&)>& bind) override;
  bool over_high_water(const http::Connection& conn, uint64_t serial) const override;
  bool client_gone(const http::Connection& conn, uint64_t serial) const override;
  // Resets only this stream (RST_STREAM INTERNAL_ERROR, RFC 9113 §8.1): the other streams on
  // the connection go on. False when the stream is already closed.
  bool abort(http::Connection& conn, uint64_t serial) override;
  // Interim HEADERS (103 Early Hints) on the stream before its final response.
  bool informational(http::Connection& conn, uint64_t serial, int status,
                     std::string_view extra_headers) override;
  // Server push (RFC 9113 §8.4): PUSH_PROMISE for GET `path` on the stream's authority and
  // scheme, the promised stream served by the router on the loop's next turn (h2/server_push.cpp).
  bool push(http::Connection& conn, uint64_t serial, std::string_view path) override;
  // A streamed request body (h2/body_stream.cpp): the next chunk, the end or an error, as
  // on HTTP/1.1; reading gives the bytes' flow-control window back to the client.
  bool read_body(http::Connection& conn, uint64_t serial, http::BodyReader fn) override;

  // nghttp2 callbacks (static trampolines in the .cpp call these).
  int on_begin_headers(const nghttp2_frame* frame);
  int on_header(const nghttp2_frame* frame, std::string_view name, std::string_view value);
  int on_frame_recv(const nghttp2_frame* frame);
  int on_data_chunk(int32_t stream_id, std::string_view data);
  int on_frame_send(const nghttp2_frame* frame);
  int on_stream_close(int32_t stream_id, uint32_t error_code);
  // The data source of a response: the next bytes of the stream's `out`.
  ssize_t read_response(int32_t stream_id, uint8_t* buf, size_t length, uint32_t* flags);

 private:
  friend class StreamChannel;
  void deliver_tunnels();  // received DATA (and END_STREAM) to their channels' protocols
  // Streamed request bodies (h2/body_stream.cpp).
  bool wants_body_stream(Stream& s);  // request HEADERS without END_STREAM: a streaming route?
  int on_body_chunk(Stream& s, std::string_view data);
  void deliver_bodies();  // after a batch of frames: dispatch candidates, wake pending reads
  void note_body(Stream& s);  // `s` has news for its pending read (deliver_bodies)
  void pump_body(Stream& s);  // answers the pending read if it can, else waits (body_timeout)
  void give_back(Stream& s);  // the unread bytes' window goes back to the client
  void fail_body(Stream& s, int status, const char* reason);
  // Tells the server's error observer (the access log) of an answer the engine gives itself,
  // as H1Protocol::send_error does; the request line is "METHOD PATH HTTP/2".
  void observe_error(const Stream& s, int status, std::string_view reason);
  void end_body(Stream& s);  // the exchange ended: the rest of the body is dropped
  void arm_body_timer(Stream& s);
  void clear_body_timer(Stream& s);
  bool take_upgrade(H2cRequest req, bool head_request);
  Stream* find(uint64_t serial) const;
  Stream* open_stream(uint64_t serial) const;
  void dispatch(Stream& s);
  void dispatch_later(int32_t stream_id);  // on the loop's next turn, if the stream lives
  // Submits the response head; `with_data`: DATA follows from the stream's buffer.
  bool submit_head(Stream& s, const http::ResponseHead& head, int64_t content_length,
                   bool with_data);
  void finish_exchange(Stream& s);  // the response is complete (queued) or abandoned
  void stream_gone(Stream& s);      // reset or connection closed: wake its producer
  // Moves frames from nghttp2 into the connection's write queue, as far as the high-water mark
  // allows; runs drain callbacks; closes the connection when the session is over.
  void pump();
  void fail(uint32_t error_code);  // GOAWAY with `error_code`, then close
  // Response bytes were queued on `s`: start its no-progress clock if it was idle, and make
  // sure the stall check is scheduled.
  void note_queued(Stream& s, size_t pending_before);
  // Resets (RST_STREAM CANCEL) every stream whose response bytes nghttp2 has not taken for
  // the server's send_timeout — a peer that never opens the stream's flow-control window
  // (RFC 9113 §6.9) — freeing its buffer and waking its producer; re-arms for the others.
  void check_stalls();
  void schedule_stall_check(TimePoint when);

  http::Server& server_;
  http::Connection& conn_;
  H2Limits limits_;
  FrameGuard guard_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  std::vector<int32_t> drained_;       // streams whose producer waits for on_drain
  std::vector<int32_t> tunnel_ready_;  // tunnel streams with input for deliver_tunnels()
  std::vector<int32_t> body_ready_;    // streamed bodies for deliver_bodies()
  size_t preface_left_;                // client preface bytes the guard does not scan
  bool in_recv_ = false;               // inside on_data: the connection flushes afterwards
  bool pumping_ = false;
  bool repump_ = false;
  bool draining_ = false;          // server shutdown: GOAWAY sent
  bool upgraded_request_ = false;  // h2c Upgrade: stream 1 waits for the client preface
  TimerId stall_timer_ = 0;        // check_stalls() scheduled while a stream holds bytes
  bool closed_ = false;
};

}  // namespace fa::h2
