// H2Protocol: request bodies handed to the handler as they arrive (Server::route_streaming),
// the HTTP/2 producer behind the same Exchange::read_body the HTTP/1.1 one serves
// (http/h1_body_stream.cpp). A stream whose route reads its body is dispatched after the batch
// of frames that carried its HEADERS; DATA then collects in Stream::body and each read takes
// all of it. The stream's receive window (RFC 9113 §5.2, §6.9) is given back only for bytes a
// read took, so a handler that does not read makes the client wait: the server holds at most
// one window of body per stream. The connection's window reopens at once (on_data_chunk), so
// other streams are not held up by a slow reader.
#include <charconv>
#include <string>

#include "h2/h2_protocol.h"
#include "http/connection.h"
#include "http/server.h"

namespace fa::h2 {

using http::BodyEvent;
using http::Connection;

bool H2Protocol::wants_body_stream(Stream& s) {
  if (!server_.has_streaming_routes() || !s.protocol.empty() || s.error_status) return false;
  uint64_t declared = 0;
  bool has_length = false;
  for (const auto& [name, value] : s.fields) {
    if (name != "content-length") continue;  // HTTP/2 field names are lowercase (§8.2.1)
    auto r = std::from_chars(value.data(), value.data() + value.size(), declared);
    if (r.ec != std::errc()) return false;  // nghttp2 refuses it anyway
    has_length = true;
  }
  // Small: read whole first, as on any route (one chunk is cheaper than an exchange of reads).
  if (has_length && declared <= http::kStreamBodyThreshold) return false;
  http::Method m = http::method_from_string(s.method);
  std::string_view path = s.path;
  path = path.substr(0, path.find_first_of("?#"));
  server_.router().find(m, s.method, path, s.match);
  if (s.match.status != http::RouteStatus::kFound || !server_.streams_body(s.match.handler))
    return false;
  if (has_length && declared > server_.config().limits.max_body_bytes) {
    s.error_status = 413;  // answered when dispatched, without waiting for the body
    s.error_reason = "request body too large";
  }
  return true;
}

int H2Protocol::on_body_chunk(Stream& s, std::string_view data) {
  if (s.body_discard || s.error_status) {
    nghttp2_session_consume_stream(session_, s.id, data.size());  // dropped: window back now
    return 0;
  }
  s.body_total += data.size();
  if (s.body_total > server_.config().limits.max_body_bytes) {
    nghttp2_session_consume_stream(session_, s.id, data.size());
    if (s.dispatched) {
      fail_body(s, 413, "request body too large");
    } else {
      s.error_status = 413;  // answered when dispatched (deliver_bodies or END_STREAM)
      s.error_reason = "request body too large";
      give_back(s);
      std::string().swap(s.body);
    }
    return 0;
  }
  s.body.append(data);
  s.body_unconsumed += data.size();
  if (s.reader) note_body(s);
  return 0;
}

void H2Protocol::note_body(Stream& s) {
  if (body_ready_.empty() || body_ready_.back() != s.id) body_ready_.push_back(s.id);
}

void H2Protocol::deliver_bodies() {
  std::vector<int32_t> ready;
  ready.swap(body_ready_);
  for (int32_t id : ready) {
    Stream* s = find(static_cast<uint64_t>(id));
    if (!s || s->reset) continue;
    if (!s->dispatched) {
      // END_STREAM did not come with the HEADERS' batch: the handler reads the body as it
      // arrives (had it come, on_frame_recv dispatched the body whole).
      s->body_streamed = true;
      dispatch(*s);
    } else if (s->body_streamed) {
      pump_body(*s);
    }
    if (closed_) return;
  }
}

void H2Protocol::pump_body(Stream& s) {
  const auto id = static_cast<uint64_t>(s.id);
  while (s.reader) {
    std::string chunk;
    BodyEvent ev = BodyEvent::kData;
    int status = 0;
    if (!s.body.empty()) {
      chunk.swap(s.body);  // all bytes received so far, as one chunk
      give_back(s);
    } else if (s.body_end) {
      ev = BodyEvent::kEnd;
    } else if (s.body_fail >= 0) {
      ev = BodyEvent::kError;
      status = s.body_fail;
    } else {
      arm_body_timer(s);  // no bytes for body_timeout: 408
      return;
    }
    clear_body_timer(s);  // the handler's pace is not the client's fault
    auto fn = std::move(s.reader);
    s.reader = nullptr;
    fn(ev, chunk, status);
    // The handler may have answered, and its stream closed, inside fn.
    if (ev != BodyEvent::kData || find(id) != &s || closed_) return;
  }
}

void H2Protocol::give_back(Stream& s) {
  if (s.body_unconsumed > 0 && !closed_)
    nghttp2_session_consume_stream(session_, s.id, s.body_unconsumed);  // WINDOW_UPDATE (§6.9)
  s.body_unconsumed = 0;
}

bool H2Protocol::read_body(Connection&, uint64_t serial, http::BodyReader fn) {
  Stream* s = find(serial);
  if (!s || !s->body_streamed || s->reader || !fn || closed_) return false;
  s->reader = std::move(fn);
  pump_body(*s);
  if (!in_recv_) pump();  // the WINDOW_UPDATE for what was read goes now
  return true;
}

void H2Protocol::observe_error(const Stream& s, int status, std::string_view reason) {
  if (const auto& observe = server_.error_observer()) {
    std::string line = s.method + " " + s.path + " HTTP/2";
    observe(conn_.peer(), status, reason, line);
  }
}

void H2Protocol::fail_body(Stream& s, int status, const char* reason) {
  s.body_fail = status;
  s.body_discard = true;
  give_back(s);
  std::string().swap(s.body);
  if (!s.open) return;
  // The engine answers 408/413 itself, as for a buffered body; the pending read gets the
  // status when the exchange ends (end_body), and the handler's later answer finds it closed.
  if (!s.streaming) {
    observe_error(s, status, reason);
    send(conn_, static_cast<uint64_t>(s.id),
         http::ResponseHead{status, "text/plain; charset=utf-8", {}}, std::string(reason) + "\n");
    return;  // `s` may be gone: send() writes, and the stream can close
  }
  // A response has started and cannot be replaced: reset the stream (RFC 9113 §8.1).
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_CANCEL);
  finish_exchange(s);
}

void H2Protocol::end_body(Stream& s) {
  clear_body_timer(s);
  if (!s.body_end) {
    // The handler answered before the body ended: the rest is dropped as it comes, and once
    // our END_STREAM is out the client is asked to stop sending it (RST_STREAM NO_ERROR,
    // RFC 9113 §8.1), as HTTP/1.1 closes the connection instead.
    if (s.body_fail < 0) s.body_fail = 0;
    s.body_discard = true;
    s.reset_after_response = true;
    give_back(s);
    std::string().swap(s.body);
  }
  if (s.reader) {  // a read still pending: the body ends here for it
    auto fn = std::move(s.reader);
    s.reader = nullptr;
    fn(BodyEvent::kError, {}, s.body_fail < 0 ? 0 : s.body_fail);
  }
}

int H2Protocol::on_frame_send(const nghttp2_frame* f) {
  if ((f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) ||
      !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
    return 0;
  Stream* s = find(static_cast<uint64_t>(f->hd.stream_id));
  if (s && s->reset_after_response && !nghttp2_session_get_stream_remote_close(session_, s->id))
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
  return 0;
}

void H2Protocol::arm_body_timer(Stream& s) {
  if (s.body_timer || closed_) return;
  s.body_timer = server_.loop().call_later(
      server_.config().body_timeout, [w = conn_.weak_from_this(), this, id = s.id] {
        auto c = w.lock();  // the connection owns `this`: alive while it is and names us
        if (!c || c->closed() || c->protocol() != this) return;
        Stream* s = find(static_cast<uint64_t>(id));
        if (!s) return;
        s->body_timer = 0;
        if (!s->reader || s->body_end || s->body_fail >= 0 || !s->body.empty()) return;
        // RFC 9110 §15.5.9: the client stopped sending the body a read is waiting for.
        fail_body(*s, 408, "timed out reading the request body");
        pump();
      });
}

void H2Protocol::clear_body_timer(Stream& s) {
  if (s.body_timer) server_.loop().cancel(s.body_timer);
  s.body_timer = 0;
}

}  // namespace fa::h2
