// H1Protocol: HTTP/1.1 on one connection (RFC 9112): parse heads and bodies, route, call the
// handler, write responses in order (pipelining), keep-alive, 100-continue, timeouts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/h1_parser.h"
#include "http/protocol.h"
#include "http/response.h"
#include "http/response_compressor.h"
#include "http/router.h"

namespace fa::http {

class Server;

class H1Protocol final : public Protocol, public Exchange {
 public:
  explicit H1Protocol(Server& server);

  void on_data(Connection& conn) override;
  void on_drain(Connection& conn) override;
  void on_peer_closed(Connection& conn) override;
  void on_close(Connection& conn) override;
  void on_timeout(Connection& conn) override;
  void on_shutdown(Connection& conn) override;
  bool idle() const override { return state_ == State::kHead && !partial_head_; }

  // Response operations for the current exchange (`serial` guards against stale handles).
  bool exchange_open(uint64_t serial) const override {
    return serial == serial_ && state_ == State::kHandling;
  }
  bool started(uint64_t serial) const override { return exchange_open(serial) && streaming_; }
  bool send(Connection& conn, uint64_t serial, const ResponseHead& head,
            std::string_view body) override;
  bool start(Connection& conn, uint64_t serial, const ResponseHead& head) override;
  bool write(Connection& conn, uint64_t serial, std::string_view chunk) override;
  bool end(Connection& conn, uint64_t serial) override;
  // The span goes into the write queue (sendfile); refused under compression.
  bool write_file(Connection& conn, uint64_t serial, FileSpan span) override;
  bool set_drain_callback(uint64_t serial, std::function<void()> fn) override;
  bool set_done_callback(uint64_t serial, std::function<void()> fn) override;
  bool set_hangup_callback(Connection& conn, uint64_t serial, std::function<void()> fn) override;
  // Writes `response_head`, ends the exchange and switches the connection to `next`.
  bool upgrade(Connection& conn, uint64_t serial, std::string_view response_head,
               std::unique_ptr<Protocol> next) override;
  bool over_high_water(const Connection& conn, uint64_t) const override;
  bool client_gone(const Connection& conn, uint64_t) const override;
  // A 1xx head (103 Early Hints) before the final response; none to HTTP/1.0 clients.
  bool informational(Connection& conn, uint64_t serial, int status,
                     std::string_view extra_headers) override;
  // A streamed body (Server::route_streaming): one event per call; reading the socket stops
  // while no read is pending (backpressure).
  bool read_body(Connection& conn, uint64_t serial, BodyReader fn) override;

 private:
  enum class State : uint8_t { kHead, kBody, kHandling, kClosed, kUpgraded };

  void process(Connection& conn);
  // HTTP/2 on this connection (ALPN "h2", or the h2c preface, RFC 9113 §3.3-3.4): hands the
  // connection to H2Protocol. False when the first bytes are HTTP/1.x (or not yet decisive).
  bool switch_to_h2(Connection& conn);
  // `Upgrade: h2c` on a request without a body (RFC 7540 §3.2; src/h2/h2c_upgrade.h): 101,
  // then H2Protocol answers the request as stream 1. False: answer it over HTTP/1.1.
  bool switch_to_h2c(Connection& conn);
  bool read_body(Connection& conn);
  void dispatch(Connection& conn);
  // 404, or 405 with Allow, when no route matched and the server has no fallback handler.
  void answer_unrouted(Connection& conn, uint64_t serial);
  void finish_exchange(Connection& conn);
  // Parses buffered pipelined requests on the loop's next iteration (see finish_exchange).
  void schedule_process(Connection& conn);
  void send_error(Connection& conn, int status, std::string_view reason);
  // content_length >= 0: Content-Length; kChunked: chunked (HTTP/1.1) or close-delimited;
  // kAppFramed: the handler supplied Content-Length in extra_headers.
  static constexpr int64_t kChunked = -1;
  static constexpr int64_t kAppFramed = -2;
  void write_head(Connection& conn, const ResponseHead& head, int64_t content_length);
  void run_done_callback();
  // Streamed request bodies (h1_body_stream.cpp).
  bool wants_body_stream();
  void start_body_stream(Connection& conn);
  void pump_body(Connection& conn);
  void fail_body(Connection& conn, int status, std::string_view reason);
  void end_body_stream();
  void body_timed_out(Connection& conn);
  // Whether a response call comes from outside on_data (a deferred handler): flush it now.
  bool deferred(const Connection& conn) const;

  Server& server_;
  RequestParser parser_;
  RequestHead head_;
  RouteMatch match_;
  ChunkedDecoder chunked_;
  State state_ = State::kHead;
  bool partial_head_ = false;  // some bytes of a next request are buffered
  size_t prev_len_ = 0;        // bytes of the partial head already scanned
  size_t head_bytes_ = 0;
  size_t body_bytes_ = 0;      // decoded body bytes after the head
  const char* head_base_ = nullptr;  // input.data() when head_ was parsed (re-parse if moved)
  uint64_t serial_ = 0;
  bool keep_alive_ = true;
  bool head_only_ = false;     // HEAD request: no body bytes
  bool streaming_ = false;
  bool chunked_out_ = false;
  bool sent_continue_ = false;
  bool draining_ = false;      // server shutdown: close after this exchange
  bool process_scheduled_ = false;
  bool h2_checked_ = false;    // the first bytes were looked at for HTTP/2
  // The current exchange's body goes to the handler as it arrives (read_body).
  enum class BodyState : uint8_t { kReading, kComplete, kFailed };
  bool body_stream_ = false;
  bool body_eof_ = false;      // the client closed before the body was complete
  bool in_io_ = false;         // inside on_data
  BodyState body_state_ = BodyState::kReading;
  int body_status_ = 0;        // kFailed: 0 client gone, 400, 413
  uint64_t body_left_ = 0;     // Content-Length bytes not yet handed over
  BodyReader reader_;          // the pending read, if any
  std::string head_buf_;  // response head being formatted (capacity kept across responses)
  std::function<void()> on_drain_;
  std::function<void()> on_done_;
  std::function<void()> on_hangup_;  // the current exchange's, until it ends or the peer closes
  ResponseCompressor compressor_;  // Content-Encoding per the server's CompressionConfig
};

}  // namespace fa::http
