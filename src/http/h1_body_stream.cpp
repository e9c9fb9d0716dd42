// H1Protocol: request bodies handed to the handler as they arrive (Server::route_streaming).
// The head is dispatched as soon as it is parsed; body bytes are framed per RFC 9112 §6.3
// (Content-Length, or chunked §7.1) and passed on one read_body() at a time. While no read is
// pending the connection stops reading: TCP flow control then holds the client (backpressure).
#include <algorithm>

#include "http/connection.h"
#include "http/h1_protocol.h"
#include "http/server.h"

namespace fa::http {

namespace {
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";  // RFC 9110 §15.2.1
}

bool H1Protocol::wants_body_stream() {
  if (!head_.chunked && static_cast<uint64_t>(head_.content_length) <= kStreamBodyThreshold)
    return false;  // small: read whole, as on any route
  server_.router().find(head_.method_id, head_.method, head_.path, match_);
  return match_.status == RouteStatus::kFound && server_.streams_body(match_.handler);
}

void H1Protocol::start_body_stream(Connection& conn) {
  body_stream_ = true;
  body_eof_ = false;
  body_state_ = BodyState::kReading;
  body_status_ = 0;
  body_left_ = head_.chunked ? 0 : static_cast<uint64_t>(head_.content_length);
  reader_ = nullptr;
  if (head_.chunked) chunked_.reset();
  ByteBuffer& in = conn.input();
  // RFC 9110 §10.1.1: the client waits for 100 before sending the body.
  if (head_.expect_continue && head_.version_minor == 1 && in.size() == head_bytes_)
    conn.output().append(kContinue);
  // The head leaves the buffer now (consume() does not move bytes: the Request's views stay
  // valid for the handler call), so body bytes always start at in.data().
  in.consume(head_bytes_);
  head_bytes_ = body_bytes_ = 0;
  head_base_ = nullptr;
  dispatch(conn);
  if (body_stream_ && state_ == State::kHandling) pump_body(conn);
}

bool H1Protocol::read_body(Connection& conn, uint64_t serial, BodyReader fn) {
  if (serial != serial_ || !body_stream_ || reader_ || !fn) return false;
  reader_ = std::move(fn);
  pump_body(conn);
  return true;
}

void H1Protocol::pump_body(Connection& conn) {
  ByteBuffer& in = conn.input();
  while (body_stream_ && reader_) {
    if (body_state_ != BodyState::kReading) {
      auto fn = std::move(reader_);
      reader_ = nullptr;
      if (body_state_ == BodyState::kComplete) {
        fn(BodyEvent::kEnd, {}, 0);
      } else {
        fn(BodyEvent::kError, {}, body_status_);
      }
      return;
    }
    if (in.empty()) {
      if (body_eof_ || conn.closed()) {
        fail_body(conn, 0, "the client closed the connection mid-body");
        continue;
      }
      conn.resume_reading();  // wait for bytes; no progress for body_timeout: 408
      conn.set_deadline(server_.config().body_timeout);
      return;
    }
    std::string_view chunk;
    if (!head_.chunked) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(in.size(), body_left_));
      chunk = std::string_view(in.data(), n);
      body_left_ -= n;
      if (body_left_ == 0) body_state_ = BodyState::kComplete;
      in.consume(n);  // the bytes stay in place until the next read (consume does not move)
    } else {
      size_t n = in.size();
      int rc = chunked_.decode(in.data(), &n);
      if (rc == kError) {
        fail_body(conn, chunked_.error().status, chunked_.error().reason);
        continue;
      }
      chunk = std::string_view(in.data(), n);
      if (rc == kPartial) {
        in.consume(in.size());  // all input was decoded into [0, n)
      } else {
        in.consume(n);  // what follows the body (a pipelined request) stays
        body_state_ = BodyState::kComplete;
      }
      if (n == 0) continue;  // only framing bytes
    }
    auto fn = std::move(reader_);
    reader_ = nullptr;
    conn.clear_deadline();  // the handler's pace is not the client's fault
    fn(BodyEvent::kData, chunk, 0);
  }
  // No read pending: stop reading while body bytes wait (backpressure), or when the body is
  // complete and the response is not (the next request waits for it, as on other routes).
  if (body_stream_ && !reader_ && !conn.closed() &&
      (!in.empty() || body_state_ != BodyState::kReading))
    conn.pause_reading();
}

void H1Protocol::fail_body(Connection& conn, int status, std::string_view reason) {
  body_state_ = BodyState::kFailed;
  body_status_ = status;
  keep_alive_ = false;
  if (status == 0 || state_ != State::kHandling) return;
  // The engine answers 400/413 itself, as for a buffered body; the handler's later answer
  // finds the exchange closed.
  if (streaming_) {
    conn.close_now();  // a response has started: it cannot be replaced
    return;
  }
  state_ = State::kClosed;
  server_.exchange_finished();
  run_done_callback();
  send_error(conn, status, reason);
}

void H1Protocol::body_timed_out(Connection& conn) {
  // RFC 9110 §15.5.9: the client stopped sending the body a read is waiting for.
  if (body_stream_ && reader_ && body_state_ == BodyState::kReading) {
    fail_body(conn, 408, "timed out reading the request body");
    pump_body(conn);  // the pending read gets the error
  }
}

void H1Protocol::end_body_stream() {
  if (body_state_ != BodyState::kComplete) keep_alive_ = false;  // the rest is unread: close
  body_stream_ = false;
  if (reader_) {
    // The handler answered with a read pending: tell it the body ends here for it.
    auto fn = std::move(reader_);
    reader_ = nullptr;
    fn(BodyEvent::kError, {}, 0);
  }
}

}  // namespace fa::http
