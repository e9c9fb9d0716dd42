// H1Protocol implementation (RFC 9112).
#include "http/h1_protocol.h"

#include <algorithm>
#include <charconv>

#include "core/log.h"
#include "h2/h2_protocol.h"
#include "h2/preface.h"
#include "http/ascii.h"
#include "http/connection.h"
#include "http/request.h"
#include "http/server.h"
#include "http/status.h"

namespace fa::http {

namespace {
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";  // RFC 9110 §15.2.1
// An empty input buffer larger than this (grown by a large body) is freed between requests.
constexpr size_t kKeepInputCapacity = 64 * 1024;

// RFC 9110 §6.4.1: 1xx, 204 and 304 responses carry no content.
bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
}  // namespace

H1Protocol::H1Protocol(Server& server)
    : server_(server), parser_(server.config().limits), chunked_(server.config().limits.max_body_bytes) {}

bool H1Protocol::deferred(const Connection& conn) const {
  return !conn.reading() || (body_stream_ && !in_io_);
}

void H1Protocol::on_data(Connection& conn) {
  if (!h2_checked_ && switch_to_h2(conn)) return;
  bool outer = in_io_;
  in_io_ = true;  // response calls from here are flushed by the connection after on_data
  if (state_ == State::kHead || state_ == State::kBody) {
    process(conn);
  } else if (body_stream_) {
    pump_body(conn);
    if (state_ == State::kHead) process(conn);  // the exchange ended: pipelined requests
  }
  in_io_ = outer;
}

bool H1Protocol::switch_to_h2(Connection& conn) {
  bool h2 = conn.alpn() == "h2";
  if (!h2) {
    switch (h2::match_preface(conn.input().view())) {
      case h2::PrefaceMatch::kPartial: return true;  // wait for the rest of the preface
      case h2::PrefaceMatch::kNo: h2_checked_ = true; return false;
      case h2::PrefaceMatch::kYes: h2 = true; break;
    }
  }
  h2_checked_ = true;
  if (!h2) return false;
  state_ = State::kUpgraded;  // inert from here: the connection frees us after this iteration
  conn.switch_protocol(std::make_unique<h2::H2Protocol>(server_, conn));
  return true;
}

bool H1Protocol::switch_to_h2c(Connection& conn) {
  auto h2 = h2::H2Protocol::from_upgrade(server_, conn, head_);
  if (!h2) return false;  // not h2c, or not acceptable: HTTP/1.1 answers the request
  conn.output().append(h2::kSwitchingToH2c);
  conn.input().consume(head_bytes_);  // the request is stream 1 now; the preface follows
  head_bytes_ = body_bytes_ = 0;
  state_ = State::kUpgraded;  // inert from here, as in switch_to_h2
  conn.switch_protocol(std::move(h2));
  return true;
}

void H1Protocol::process(Connection& conn) {
  ByteBuffer& in = conn.input();
  while (!conn.closing() && !conn.closed()) {
    if (state_ == State::kHead) {
      if (in.empty()) {
        partial_head_ = false;
        return;
      }
      if (conn.over_high_water()) {  // backpressure: answer pipelined requests after a drain
        conn.pause_reading();
        return;
      }
      int rc = parser_.parse_request(in.view(), prev_len_, head_);
      if (rc == kPartial) {
        if (!partial_head_) {
          partial_head_ = true;
          conn.set_deadline(server_.config().header_timeout);
        }
        prev_len_ = in.size();
        return;
      }
      prev_len_ = 0;
      partial_head_ = false;
      if (rc == kError) {
        send_error(conn, parser_.error().status, parser_.error().reason);
        return;
      }
      head_bytes_ = static_cast<size_t>(rc);
      head_.head_bytes = head_bytes_;
      head_base_ = in.data();
      body_bytes_ = 0;
      if (!head_.has_body()) {
        if (head_.upgrade && switch_to_h2c(conn)) return;
        dispatch(conn);
        continue;
      }
      if (server_.has_streaming_routes() && wants_body_stream()) {
        start_body_stream(conn);
        continue;
      }
      state_ = State::kBody;
      sent_continue_ = false;
      if (head_.chunked) chunked_.reset();
      conn.set_deadline(server_.config().body_timeout);
    }
    if (state_ == State::kBody) {
      if (!read_body(conn)) {
        // RFC 9110 §10.1.1: ask for the body only when the client waits for it.
        if (state_ == State::kBody && head_.expect_continue && !sent_continue_ &&
            head_.version_minor == 1 && in.size() == head_bytes_ + body_bytes_) {
          conn.output().append(kContinue);
          sent_continue_ = true;
        }
        return;
      }
      dispatch(conn);
      continue;
    }
    return;  // kHandling or kClosed: wait
  }
}

bool H1Protocol::read_body(Connection& conn) {
  ByteBuffer& in = conn.input();
  if (!head_.chunked) {
    size_t need = head_bytes_ + static_cast<size_t>(head_.content_length);
    if (in.size() < need) {
      in.prepare(need - in.size());  // one allocation for the whole body
      return false;
    }
    body_bytes_ = static_cast<size_t>(head_.content_length);
    return true;
  }
  size_t n = in.size() - head_bytes_ - body_bytes_;
  if (n == 0) return false;
  int rc = chunked_.decode(in.data() + head_bytes_ + body_bytes_, &n);
  if (rc == kError) {
    send_error(conn, chunked_.error().status, chunked_.error().reason);
    return false;
  }
  body_bytes_ += n;
  if (rc == kPartial) {
    in.truncate(head_bytes_ + body_bytes_);  // framing bytes are consumed
    return false;
  }
  in.truncate(head_bytes_ + body_bytes_ + static_cast<size_t>(rc));
  return true;
}

void H1Protocol::dispatch(Connection& conn) {
  ByteBuffer& in = conn.input();
  if (!body_stream_ && in.data() != head_base_) {
    // The buffer moved while the body arrived: re-take the head's views from the new bytes.
    int rc = parser_.parse_request(in.view(), 0, head_);
    if (rc <= 0) {
      send_error(conn, 500, "request head changed while reading the body");
      return;
    }
    head_.head_bytes = static_cast<size_t>(rc);
    head_base_ = in.data();
  }
  conn.clear_deadline();
  state_ = State::kHandling;
  ++serial_;
  streaming_ = false;
  chunked_out_ = false;
  head_only_ = head_.method_id == Method::kHead;
  keep_alive_ = head_.keep_alive && !draining_ && !conn.peer_closed();
  compressor_.begin(server_.config().compression, head_);
  server_.exchange_started();

  const Router& router = server_.router();
  router.find(head_.method_id, head_.method, head_.path, match_);
  uint64_t serial = serial_;
  const Handler* handler = match_.status == RouteStatus::kFound ? &server_.handler(match_.handler)
                                                                 : server_.fallback();
  if (handler == nullptr) {
    answer_unrouted(conn, serial);
  } else {
    Request req{head_, match_, std::string_view(in.data() + head_bytes_, body_bytes_), conn.peer(),
                body_stream_};
    Response res(conn, *this, serial);
    try {
      (*handler)(req, res);
    } catch (const std::exception& e) {
      FA_LOG(LogLevel::kError, "handler for %.*s %.*s threw: %s", int(head_.method.size()),
             head_.method.data(), int(head_.path.size()), head_.path.data(), e.what());
      if (exchange_open(serial)) {
        if (streaming_) {
          conn.close_now();
        } else {
          send(conn, serial, ResponseHead{500, "application/json", {}},
               R"({"detail":"Internal Server Error"})");
        }
      }
    }
  }
  // Deferred: resume when it finishes. A streamed body keeps reading (pump_body paces it).
  if (exchange_open(serial) && !body_stream_) conn.pause_reading();
}

void H1Protocol::answer_unrouted(Connection& conn, uint64_t serial) {
  if (match_.status == RouteStatus::kMethodNotAllowed) {
    std::string allow = "Allow: ";
    allow.append(match_.allow).append("\r\n");
    send(conn, serial, ResponseHead{405, "application/json", allow},
         R"({"detail":"Method Not Allowed"})");
  } else {
    send(conn, serial, ResponseHead{404, "application/json", {}}, R"({"detail":"Not Found"})");
  }
}

void H1Protocol::finish_exchange(Connection& conn) {
  bool was_stream = body_stream_;
  if (was_stream) end_body_stream();  // an unread rest of the body: keep_alive_ is off
  conn.input().consume(head_bytes_ + body_bytes_);
  head_bytes_ = body_bytes_ = 0;
  state_ = State::kHead;
  streaming_ = false;
  on_drain_ = nullptr;
  server_.exchange_finished();
  run_done_callback();
  if (!keep_alive_) {
    state_ = State::kClosed;
    conn.close_after_flush();
    return;
  }
  ByteBuffer& in = conn.input();
  if (in.empty() && in.capacity() > kKeepInputCapacity) in.release();  // after a large body
  conn.set_idle_deadline(server_.config().keep_alive_timeout);
  if (was_stream && conn.reading() && !in_io_) {
    if (!in.empty()) schedule_process(conn);  // as below: the next request on a later turn
  } else if (!conn.reading()) {
    // Finished outside on_data (a deferred handler, e.g. from a Python Task). The next
    // pipelined request is not dispatched here, inside the finisher's call (its task and
    // context would leak into the next handler), but on the loop's next iteration.
    conn.resume_reading();
    if (!in.empty()) schedule_process(conn);
  }
}

void H1Protocol::schedule_process(Connection& conn) {
  if (process_scheduled_) return;
  process_scheduled_ = true;
  server_.loop().defer([this, weak = conn.weak_from_this()] {
    auto c = weak.lock();
    if (!c || c->closed() || c->protocol() != this) return;  // gone, or upgraded away
    process_scheduled_ = false;
    if (state_ == State::kHead && c->reading()) process(*c);
    c->flush();
  });
}

void H1Protocol::run_done_callback() {
  on_hangup_ = nullptr;  // the exchange is over: on_done tells whoever waited
  // Deferred to the end of the loop iteration, after the response has been flushed.
  if (on_done_) {
    server_.loop().defer(std::move(on_done_));
    on_done_ = nullptr;
  }
}

void H1Protocol::write_head(Connection& conn, const ResponseHead& head, int64_t content_length) {
  chunked_out_ = false;
  std::string& out = head_buf_;  // reused: no allocation per response once warm
  out.clear();
  out.append(status_line(head.status));
  out.append(server_.date().header_line());
  if (!head.content_type.empty()) {
    out.append("Content-Type: ").append(head.content_type).append("\r\n");
  }
  out.append(head.extra_headers);
  if (content_length == kAppFramed) {
    // The handler's own Content-Length (in extra_headers) frames the body.
  } else if (content_length >= 0) {
    if (status_has_body(head.status)) {
      out.append("Content-Length: ");
      append_number(out, static_cast<uint64_t>(content_length));
      out.append("\r\n");
    }
  } else if (head_.version_minor >= 1) {
    out.append("Transfer-Encoding: chunked\r\n");
    chunked_out_ = true;
  } else {
    keep_alive_ = false;  // HTTP/1.0: the body ends when the connection closes (RFC 9112 §6.3)
  }
  if (!keep_alive_) {
    out.append("Connection: close\r\n");
  } else if (head_.version_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  conn.output().append(std::string_view(out));
}

bool H1Protocol::send(Connection& conn, uint64_t serial, const ResponseHead& head,
                      std::string_view body) {
  if (!exchange_open(serial) || streaming_) return false;
  ResponseHead coded = head;
  compressor_.on_send(coded, body, head_only_);
  write_head(conn, coded, static_cast<int64_t>(body.size()));
  if (!head_only_ && status_has_body(head.status)) conn.output().append(body);
  if (deferred(conn)) {
    // From outside on_data: written before finish_exchange resumes reading, so the interest
    // goes straight back to reading, EPOLLOUT armed only if the socket is full (not armed by
    // the resume, then disarmed by the flush).
    on_drain_ = nullptr;  // the exchange is complete: nobody waits for its drain
    conn.flush();
    if (conn.closed()) return true;  // a write error: on_close ended the exchange
  }
  finish_exchange(conn);
  return true;
}

bool H1Protocol::informational(Connection& conn, uint64_t serial, int status,
                               std::string_view extra_headers) {
  // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client; 101 belongs to upgrade().
  if (!exchange_open(serial) || streaming_ || head_.version_minor == 0 || status < 100 ||
      status > 199 || status == 101)
    return false;
  conn.output().append(status_line(status));
  conn.output().append(extra_headers);
  conn.output().append(std::string_view("\r\n"));
  if (deferred(conn)) conn.flush();  // a deferred handler: the hints go now, not with the answer
  return true;
}

bool H1Protocol::start(Connection& conn, uint64_t serial, const ResponseHead& head) {
  if (!exchange_open(serial) || streaming_) return false;
  // A handler-supplied Content-Length means the body is not chunked.
  bool has_length = false;
  std::string_view lines = head.extra_headers;
  while (!lines.empty() && !has_length) {
    size_t eol = lines.find('\n');
    std::string_view line = lines.substr(0, eol);
    has_length = ascii_iequals(line.substr(0, line.find(':')), "content-length");
    lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 1);
  }
  ResponseHead coded = head;
  compressor_.on_start(coded, head_only_, has_length);
  write_head(conn, coded, has_length ? kAppFramed : kChunked);
  streaming_ = true;
  if (deferred(conn)) conn.flush();
  return true;
}

bool H1Protocol::write(Connection& conn, uint64_t serial, std::string_view chunk) {
  if (!exchange_open(serial) || !streaming_) return false;
  if (compressor_.encoding() && !head_only_ && !chunk.empty() && !compressor_.on_write(chunk, chunk)) {
    conn.close_now();  // a codec error: the encoded stream cannot continue
    return false;
  }
  if (!head_only_ && !chunk.empty()) {
    if (chunked_out_) {
      char size_line[24];
      auto r = std::to_chars(size_line, size_line + 16, chunk.size(), 16);
      *r.ptr++ = '\r';
      *r.ptr++ = '\n';
      conn.output().append(std::string_view(size_line, static_cast<size_t>(r.ptr - size_line)));
      conn.output().append(chunk);
      conn.output().append(std::string_view("\r\n"));
    } else {
      conn.output().append(chunk);
    }
  }
  if (deferred(conn)) conn.flush();
  return !conn.closed() && !conn.over_high_water();
}

bool H1Protocol::write_file(Connection& conn, uint64_t serial, FileSpan span) {
  if (!exchange_open(serial) || !streaming_ || compressor_.encoding()) return false;
  if (!head_only_ && span.length > 0) {
    if (chunked_out_) {  // RFC 9112 §7.1: the span is one chunk
      char size_line[24];
      auto r = std::to_chars(size_line, size_line + 16, span.length, 16);
      *r.ptr++ = '\r';
      *r.ptr++ = '\n';
      conn.output().append(std::string_view(size_line, static_cast<size_t>(r.ptr - size_line)));
      conn.output().append_file(std::move(span));
      conn.output().append(std::string_view("\r\n"));
    } else {
      conn.output().append_file(std::move(span));
    }
  }
  if (deferred(conn)) conn.flush();
  return !conn.closed();
}

bool H1Protocol::end(Connection& conn, uint64_t serial) {
  if (!exchange_open(serial) || !streaming_) return false;
  if (compressor_.encoding()) {
    std::string_view tail;
    bool ok = compressor_.on_end(tail);
    if (!ok) {
      conn.close_now();  // the encoded stream cannot be completed
      return false;
    }
    if (!tail.empty() && !head_only_) {
      write(conn, serial, tail);  // the encoder is done: this chunk goes out as is
    }
  }
  if (chunked_out_ && !head_only_) conn.output().append(std::string_view("0\r\n\r\n"));  // last-chunk, no trailers
  streaming_ = false;
  if (deferred(conn)) {  // written before reading resumes, as in send()
    on_drain_ = nullptr;
    conn.flush();
    if (conn.closed()) return true;
  }
  finish_exchange(conn);
  return true;
}

bool H1Protocol::set_drain_callback(uint64_t serial, std::function<void()> fn) {
  if (!exchange_open(serial)) return false;
  on_drain_ = std::move(fn);
  return true;
}

bool H1Protocol::set_done_callback(uint64_t serial, std::function<void()> fn) {
  if (!exchange_open(serial)) return false;
  on_done_ = std::move(fn);
  return true;
}

bool H1Protocol::set_hangup_callback(Connection& conn, uint64_t serial,
                                     std::function<void()> fn) {
  if (!exchange_open(serial)) return false;
  if (conn.peer_closed())
    server_.loop().defer(std::move(fn));
  else
    on_hangup_ = std::move(fn);
  return true;
}

bool H1Protocol::upgrade(Connection& conn, uint64_t serial, std::string_view response_head,
                         std::unique_ptr<Protocol> next) {
  if (!exchange_open(serial) || streaming_ || !next) return false;
  conn.output().append(response_head);
  conn.input().consume(head_bytes_ + body_bytes_);  // what follows belongs to `next`
  head_bytes_ = body_bytes_ = 0;
  state_ = State::kUpgraded;  // stays inert: the connection frees us after this iteration
  on_drain_ = nullptr;
  server_.exchange_finished();
  run_done_callback();
  conn.clear_deadline();
  conn.resume_reading();
  conn.switch_protocol(std::move(next));
  return true;
}

void H1Protocol::send_error(Connection& conn, int status, std::string_view reason) {
  if (const auto& observe = server_.error_observer()) {
    // The request line when this exchange's head was parsed (a body or timeout error).
    std::string_view line;
    if (state_ == State::kBody && head_base_ == conn.input().data()) {
      std::string_view in = conn.input().view();
      line = in.substr(0, std::min(in.find('\r'), head_bytes_));
    }
    observe(conn.peer(), status, reason, line);
  }
  std::string body;
  body.append(reason_phrase(status)).append(": ").append(reason).append("\n");
  keep_alive_ = false;
  write_head(conn, ResponseHead{status, "text/plain; charset=utf-8", {}},
             static_cast<int64_t>(body.size()));
  conn.output().append(body);
  state_ = State::kClosed;
  conn.close_after_flush();
}

void H1Protocol::on_drain(Connection& conn) {
  if (on_drain_) {
    auto fn = std::move(on_drain_);
    on_drain_ = nullptr;
    fn();
  }
  if (state_ == State::kHead && !conn.reading() && !conn.closing()) {
    conn.resume_reading();
    process(conn);
  }
}

void H1Protocol::on_peer_closed(Connection& conn) {
  if (state_ == State::kHandling) {
    keep_alive_ = false;  // answer, then close
    if (on_hangup_) {
      server_.loop().defer(std::move(on_hangup_));
      on_hangup_ = nullptr;
    }
    if (body_stream_ && body_state_ == BodyState::kReading) {
      body_eof_ = true;      // the buffered bytes are handed over, then the error
      conn.pause_reading();  // EOF stays readable: do not spin on it
      pump_body(conn);
      return;
    }
    // A stream in progress has lost its reader (as ResponseHandle::client_gone() says): tell
    // the exchange's done-callback now, so an idle producer (an SSE generator) is stopped.
    if (streaming_) run_done_callback();
    return;
  }
  conn.close_now();  // nothing in flight, or a request that can never complete
}

void H1Protocol::on_close(Connection& conn) {
  if (body_stream_) {
    if (body_state_ == BodyState::kReading) {
      body_state_ = BodyState::kFailed;
      body_status_ = 0;
    }
    if (reader_) {
      auto fn = std::move(reader_);
      reader_ = nullptr;
      fn(body_state_ == BodyState::kComplete ? BodyEvent::kEnd : BodyEvent::kError, {}, body_status_);
    }
    body_stream_ = false;
  }
  if (state_ == State::kHandling) {
    state_ = State::kClosed;
    if (on_hangup_) {  // the client is gone with the connection (a reset, TLS's close)
      server_.loop().defer(std::move(on_hangup_));
      on_hangup_ = nullptr;
    }
    server_.exchange_finished();
    run_done_callback();
  }
  state_ = State::kClosed;
  if (on_drain_) {
    auto fn = std::move(on_drain_);
    on_drain_ = nullptr;
    fn();  // wake a producer waiting for drain: it will see the connection gone
  }
}

void H1Protocol::on_timeout(Connection& conn) {
  if (state_ == State::kHandling) {  // handlers have no deadline; a streamed body's reads do
    body_timed_out(conn);
    return;
  }
  if (partial_head_ || state_ == State::kBody) {
    send_error(conn, 408, "timed out reading the request");
    return;
  }
  conn.close_now();  // idle keep-alive connection
}

void H1Protocol::on_shutdown(Connection& conn) {
  draining_ = true;
  if (state_ == State::kHandling || state_ == State::kBody) {
    keep_alive_ = false;
    return;
  }
  // Idle: the last response may still be queued (a slow reader); it goes out before the close.
  if (conn.queued() > 0) {
    conn.close_after_flush();
    return;
  }
  conn.close_now();
}

// --- Response / ResponseHandle ---------------------------------------------------------

bool H1Protocol::over_high_water(const Connection& conn, uint64_t) const {
  return conn.over_high_water();
}
bool H1Protocol::client_gone(const Connection& conn, uint64_t) const {
  return conn.closed() || conn.peer_closed();
}

void Response::send(const ResponseHead& head, std::string_view body) {
  proto_.send(conn_, serial_, head, body);
}
void Response::start(const ResponseHead& head) { proto_.start(conn_, serial_, head); }
bool Response::write(std::string_view chunk) { return proto_.write(conn_, serial_, chunk); }
void Response::end() { proto_.end(conn_, serial_); }
bool Response::finished() const { return !proto_.exchange_open(serial_); }
bool Response::started() const { return proto_.started(serial_); }
ResponseHandle Response::detach() {
  return ResponseHandle(conn_.shared_from_this(), &proto_, serial_);
}

Exchange* ResponseHandle::live() const {
  auto c = conn_.lock();
  if (!c || c->closed() || !proto_->exchange_open(serial_)) return nullptr;
  return proto_;
}

bool ResponseHandle::send(const ResponseHead& head, std::string_view body) const {
  auto c = conn_.lock();
  return c && !c->closed() && proto_->send(*c, serial_, head, body);
}
bool ResponseHandle::start(const ResponseHead& head) const {
  auto c = conn_.lock();
  return c && !c->closed() && proto_->start(*c, serial_, head);
}
bool ResponseHandle::write(std::string_view chunk) const {
  auto c = conn_.lock();
  return c && !c->closed() && proto_->write(*c, serial_, chunk);
}
bool ResponseHandle::end() const {
  auto c = conn_.lock();
  return c && !c->closed() && proto_->end(*c, serial_);
}
bool Exchange::abort(Connection& conn, uint64_t) {
  conn.close_now();
  return true;
}
bool ResponseHandle::abort() const {
  auto c = conn_.lock();
  if (!c || c->closed()) return false;
  return proto_->abort(*c, serial_);
}
bool ResponseHandle::on_drain(std::function<void()> fn) const {
  Exchange* p = live();
  return p && p->set_drain_callback(serial_, std::move(fn));
}
bool ResponseHandle::on_done(std::function<void()> fn) const {
  Exchange* p = live();
  return p && p->set_done_callback(serial_, std::move(fn));
}
bool ResponseHandle::on_hangup(std::function<void()> fn) const {
  auto c = conn_.lock();
  return c && !c->closed() && proto_->set_hangup_callback(*c, serial_, std::move(fn));
}
bool ResponseHandle::upgrade(std::string_view response_head,
                             const std::function<std::unique_ptr<Protocol>(Connection&)>& make) const {
  auto c = conn_.lock();
  if (!c || c->closed() || !proto_->exchange_open(serial_)) return false;
  return proto_->upgrade(*c, serial_, response_head, make(*c));
}
bool ResponseHandle::read_body(BodyReader fn) const {
  auto c = conn_.lock();
  return c && !c->closed() && proto_->read_body(*c, serial_, std::move(fn));
}
bool ResponseHandle::alive() const { return live() != nullptr; }
bool ResponseHandle::started() const {
  Exchange* p = live();
  return p && p->started(serial_);
}
bool ResponseHandle::client_gone() const {
  auto c = conn_.lock();
  return !c || c->closed() || proto_->client_gone(*c, serial_);
}
bool ResponseHandle::over_high_water() const {
  auto c = conn_.lock();
  return c && proto_->over_high_water(*c, serial_);
}

}  // namespace fa::http
