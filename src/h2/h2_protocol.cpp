// H2Protocol implementation (RFC 9113 on nghttp2).
#include "h2/h2_protocol.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <string>

#include "core/log.h"
#include "h2/preface.h"
#include "h2/response_fields.h"
#include "h2/stream_channel.h"
#include "http/ascii.h"
#include "http/connection.h"
#include "http/request.h"
#include "http/server.h"

namespace fa::h2 {

using http::Connection;
using http::ResponseHead;

namespace {

H2Protocol* self(void* user_data) {
  return static_cast<H2Protocol*>(user_data);
}

int cb_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* u) {
  return self(u)->on_begin_headers(f);
}
int cb_header(nghttp2_session*, const nghttp2_frame* f, const uint8_t* name, size_t namelen,
              const uint8_t* value, size_t valuelen, uint8_t, void* u) {
  return self(u)->on_header(f, {reinterpret_cast<const char*>(name), namelen},
                            {reinterpret_cast<const char*>(value), valuelen});
}
int cb_frame_recv(nghttp2_session*, const nghttp2_frame* f, void* u) {
  return self(u)->on_frame_recv(f);
}
int cb_data_chunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* u) {
  return self(u)->on_data_chunk(id, {reinterpret_cast<const char*>(data), len});
}
int cb_frame_send(nghttp2_session*, const nghttp2_frame* f, void* u) {
  return self(u)->on_frame_send(f);
}
int cb_stream_close(nghttp2_session*, int32_t id, uint32_t error_code, void* u) {
  return self(u)->on_stream_close(id, error_code);
}
ssize_t cb_read(nghttp2_session*, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                nghttp2_data_source*, void* u) {
  return self(u)->read_response(id, buf, length, flags);
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// RFC 9110 §6.4.1: 1xx, 204 and 304 responses carry no content.
bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

}  // namespace

H2Protocol::H2Protocol(http::Server& server, Connection& conn, GuardLimits guard)
    : server_(server), conn_(conn), guard_(guard), preface_left_(kClientPreface.size()) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, cb_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb_data_chunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, cb_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_stream_close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // PING/SETTINGS floods: nghttp2 stops (NGHTTP2_ERR_FLOODED) when this many ACKs queue up
  // because the peer does not read them.
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  nghttp2_option_set_max_settings(opt, 32);  // entries in one SETTINGS frame
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, limits_.header_table_size);
  // Window updates are ours (on_data_chunk): an RFC 8441 tunnel whose reader paused, or a
  // streamed request body the handler does not read, keeps its stream window shut, as a paused
  // HTTP/1.1 reader lets the TCP window close.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_session_server_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);

  const auto& lim = server_.config().limits;
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits_.initial_window},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, limits_.header_table_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(lim.max_header_bytes)},
      // RFC 8441 §3: extended CONNECT, for WebSocket over HTTP/2.
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, limits_.connection_window);
  conn.clear_deadline();
  conn.set_idle_deadline(server_.config().keep_alive_timeout);
}

H2Protocol::~H2Protocol() {
  // The stall timer is cancelled in on_close, not here: a connection the server never closed
  // is destroyed with the event loop, whose timer table may already be gone by then (calling
  // cancel() on it crashed TestClient's stop with an h2 connection still open). A timer left
  // behind finds its connection gone (weak_ptr) and does nothing.
  nghttp2_session_del(session_);
}

// --- h2c by Upgrade (RFC 7540 §3.2) ---------------------------------------------------------

std::unique_ptr<H2Protocol> H2Protocol::from_upgrade(http::Server& server, Connection& conn,
                                                     const http::RequestHead& head) {
  if (conn.secure()) return nullptr;  // h2c is cleartext only; TLS has ALPN "h2"
  H2cRequest req;
  if (!parse_h2c_upgrade(head, req)) return nullptr;
  auto proto = std::make_unique<H2Protocol>(server, conn);
  if (!proto->take_upgrade(std::move(req), head.method_id == http::Method::kHead)) return nullptr;
  return proto;
}

bool H2Protocol::take_upgrade(H2cRequest req, bool head_request) {
  // The client's HTTP2-Settings stand for its first SETTINGS; stream 1 is the request,
  // half-closed (remote) already (§3.2).
  int rc = nghttp2_session_upgrade2(session_, reinterpret_cast<const uint8_t*>(req.settings.data()),
                                    req.settings.size(), head_request ? 1 : 0, nullptr);
  if (rc != 0) {
    FA_LOG(LogLevel::kDebug, "h2c upgrade refused: %s", nghttp2_strerror(rc));
    return false;
  }
  auto s = std::make_unique<Stream>();
  s->id = 1;
  s->method = std::move(req.method);
  s->path = std::move(req.target);
  s->authority = std::move(req.authority);
  s->scheme = "http";
  s->fields = std::move(req.fields);
  streams_[1] = std::move(s);
  upgraded_request_ = true;  // answered once the client's preface is in (on_data)
  return true;
}

// --- bytes in -----------------------------------------------------------------------------

void H2Protocol::on_data(Connection& conn) {
  if (closed_) return;
  ByteBuffer& in = conn.input();
  std::string_view bytes = in.view();
  std::string_view framed = bytes.substr(std::min(preface_left_, bytes.size()));
  preface_left_ -= bytes.size() - framed.size();
  if (guard_.feed(framed, now_seconds()) != GuardVerdict::kOk) {
    in.consume(in.size());
    fail(NGHTTP2_ENHANCE_YOUR_CALM);  // RFC 9113 §5.4.1; CVE-2023-44487 / CVE-2024-27316
    return;
  }
  in_recv_ = true;
  ssize_t n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                       bytes.size());
  if (n >= 0) deliver_tunnels();
  if (n >= 0 && !closed_ && !body_ready_.empty()) deliver_bodies();
  if (n >= 0 && upgraded_request_ && preface_left_ == 0) {
    // h2c by Upgrade: the response to stream 1 waits for the client's preface. Sent earlier,
    // a window's worth of DATA lands behind the 101 before the client has switched, more than
    // curl keeps for it ("connection buffer size is too small ... after HTTP Upgrade").
    upgraded_request_ = false;
    auto it = streams_.find(1);
    if (it != streams_.end() && !it->second->dispatched) dispatch(*it->second);
  }
  in_recv_ = false;
  in.consume(in.size());
  if (n < 0) {
    // Bad preface, a flood nghttp2 caught, or a connection error: nghttp2 queued its GOAWAY.
    FA_LOG(LogLevel::kDebug, "h2: session error: %s", nghttp2_strerror(static_cast<int>(n)));
    if (n == NGHTTP2_ERR_FLOODED) {
      conn.close_now();
      return;
    }
    fail(NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  pump();
}

int H2Protocol::on_begin_headers(const nghttp2_frame* f) {
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  if (draining_) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // refused: we are closing
  auto s = std::make_unique<Stream>();
  s->id = f->hd.stream_id;
  streams_[s->id] = std::move(s);
  conn_.clear_deadline();
  return 0;
}

int H2Protocol::on_header(const nghttp2_frame* f, std::string_view name, std::string_view value) {
  if (f->hd.type != NGHTTP2_HEADERS) return 0;
  auto it = streams_.find(f->hd.stream_id);
  if (it == streams_.end()) return 0;
  Stream& s = *it->second;
  if (f->headers.cat != NGHTTP2_HCAT_REQUEST) {
    s.in_trailers = true;  // trailer fields (RFC 9110 §6.5): accepted, not passed on (as h1)
    return 0;
  }
  const auto& lim = server_.config().limits;
  s.field_bytes += name.size() + value.size() + 32;
  if (s.field_bytes > lim.max_header_bytes || s.fields.size() >= lim.max_headers) {
    s.error_status = 431;
    s.error_reason = "request header fields too large";
    return 0;
  }
  if (!name.empty() && name[0] == ':') {  // nghttp2 has checked their order and uniqueness
    if (name == ":method")
      s.method = value;
    else if (name == ":path")
      s.path = value;
    else if (name == ":authority")
      s.authority = value;
    else if (name == ":scheme")
      s.scheme = value;
    else if (name == ":protocol")  // nghttp2 allows it only on CONNECT, once we enabled it
      s.protocol = value;
    return 0;
  }
  s.fields.emplace_back(name, value);
  return 0;
}

int H2Protocol::on_data_chunk(int32_t stream_id, std::string_view data) {
  auto it = streams_.find(stream_id);
  Stream* paced = it == streams_.end() || !(it->second->tunnel || it->second->body_candidate)
                      ? nullptr
                      : it->second.get();
  if (paced) {
    // The connection's window reopens now (other streams must not wait for this reader); the
    // stream's when its reader takes the bytes (StreamChannel::deliver, pump_body).
    nghttp2_session_consume_connection(session_, data.size());
  } else {
    nghttp2_session_consume(session_, stream_id, data.size());  // buffered or discarded now
  }
  if (it == streams_.end()) return 0;
  Stream& s = *it->second;
  if (s.body_candidate) return on_body_chunk(s, data);
  if (s.tunnel) {
    if (tunnel_ready_.empty() || tunnel_ready_.back() != stream_id)
      tunnel_ready_.push_back(stream_id);
    s.tunnel->on_bytes(data);
    return 0;
  }
  if (s.error_status) return 0;
  if (s.body.size() + data.size() > server_.config().limits.max_body_bytes) {
    s.error_status = 413;  // the rest is discarded; the answer goes at END_STREAM
    s.error_reason = "request body too large";
    std::string().swap(s.body);
    return 0;
  }
  s.body.append(data);
  return 0;
}

int H2Protocol::on_frame_recv(const nghttp2_frame* f) {
  if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) return 0;
  auto it = streams_.find(f->hd.stream_id);
  if (it == streams_.end()) return 0;
  Stream& s = *it->second;
  bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (s.tunnel) {
    if (end) {  // the peer closed its side of the tunnel (RFC 8441 §4)
      s.tunnel->on_peer_end();
      tunnel_ready_.push_back(s.id);
    }
    return 0;
  }
  if (s.dispatched) {
    if (end && s.body_streamed) {  // END_STREAM on the last DATA or on the trailers (§8.1)
      s.body_end = true;
      note_body(s);
    }
    return 0;
  }
  // An extended CONNECT (RFC 8441 §4) goes to its handler at once: its stream stays open for
  // the tunnel's bytes.
  bool request_head = f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST;
  if (end || (request_head && !s.protocol.empty())) {
    dispatch(s);  // the body (if any) is complete: handed over whole, as always
  } else if (request_head && wants_body_stream(s)) {
    // Dispatched after this batch of frames (deliver_bodies) unless END_STREAM comes in it.
    s.body_candidate = true;
    body_ready_.push_back(s.id);
  }
  return 0;
}

int H2Protocol::on_stream_close(int32_t stream_id, uint32_t) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  std::unique_ptr<Stream> s = std::move(it->second);
  streams_.erase(it);
  stream_gone(*s);
  if (streams_.empty()) {
    if (draining_) {
      conn_.close_after_flush();
    } else {
      conn_.set_idle_deadline(server_.config().keep_alive_timeout);
    }
  }
  return 0;
}

// --- dispatch: the same router and handlers as HTTP/1.1 -------------------------------------

void H2Protocol::dispatch(Stream& s) {
  s.dispatched = true;
  http::RequestHead& h = s.head;
  bool has_host = false;
  for (const auto& f : s.fields) has_host |= f.first == "host";
  // RFC 9113 §8.3.1: :authority stands for Host; handlers read it as the Host field.
  if (!has_host && !s.authority.empty()) s.fields.emplace_back("host", s.authority);
  size_t nfields =
      std::min({s.fields.size(), http::kMaxHeaders, server_.config().limits.max_headers});
  std::string& raw = s.raw_head;
  raw.clear();
  raw.append(s.method).append(" ").append(s.path).append(" HTTP/1.1\r\n");
  std::vector<size_t> offs;
  offs.reserve(nfields);
  for (size_t i = 0; i < nfields; ++i) {
    offs.push_back(raw.size());
    raw.append(s.fields[i].first).append(": ").append(s.fields[i].second).append("\r\n");
  }
  raw.append("\r\n");
  std::string_view r = raw;  // complete: views into it stay valid
  h.method = r.substr(0, s.method.size());
  h.method_id = http::method_from_string(h.method);
  h.target = r.substr(s.method.size() + 1, s.path.size());
  std::string_view path = h.target;
  size_t cut = path.find_first_of("?#");
  h.path = path.substr(0, cut);
  if (cut != std::string_view::npos && path[cut] == '?') {
    std::string_view q = path.substr(cut + 1);
    h.query = q.substr(0, q.find('#'));
  }
  h.version_minor = 1;
  h.version_major = 2;  // request.http_version "2" (ASGI)
  h.keep_alive = true;
  h.num_headers = nfields;
  for (size_t i = 0; i < nfields; ++i) {
    const auto& [name, value] = s.fields[i];
    h.headers[i] = {r.substr(offs[i], name.size()),
                    r.substr(offs[i] + name.size() + 2, value.size())};
    if (name == "content-length") {
      int64_t v = 0;
      auto res = std::from_chars(value.data(), value.data() + value.size(), v);
      if (res.ec == std::errc()) h.content_length = v;
    }
  }
  h.head_bytes = raw.size();
  if (h.content_length < 0 && !s.body.empty() && !s.body_streamed)
    h.content_length = static_cast<int64_t>(s.body.size());

  s.open = true;
  s.head_only = h.method_id == http::Method::kHead;
  server_.exchange_started();
  s.compressor.begin(server_.config().compression, h);
  uint64_t serial = static_cast<uint64_t>(s.id);
  if (s.error_status) {
    observe_error(s, s.error_status, s.error_reason);
    std::string body = std::string(s.error_reason) + "\n";
    send(conn_, serial, ResponseHead{s.error_status, "text/plain; charset=utf-8", {}}, body);
    return;
  }
  if (s.method.empty() || (s.path.empty() && h.method_id != http::Method::kConnect)) {
    observe_error(s, 400, "bad request");
    send(conn_, serial, ResponseHead{400, "text/plain; charset=utf-8", {}}, "bad request\n");
    return;
  }
  if (!s.protocol.empty()) {
    // RFC 8441 §4-5: an extended CONNECT for "websocket" is the WebSocket route's handshake
    // (its GET route; the head keeps the method CONNECT, so the handshake sees RFC 8441).
    if (s.protocol != "websocket") {
      send(conn_, serial, ResponseHead{501, "text/plain; charset=utf-8", {}},
           "unsupported :protocol\n");
      return;
    }
    server_.router().find(http::Method::kGet, "GET", h.path, s.match);
  } else {
    server_.router().find(h.method_id, h.method, h.path, s.match);
  }
  const http::Handler* handler = s.match.status == http::RouteStatus::kFound
                                     ? &server_.handler(s.match.handler)
                                     : server_.fallback();
  if (handler == nullptr) {
    if (s.match.status == http::RouteStatus::kMethodNotAllowed) {
      std::string allow = "Allow: ";
      allow.append(s.match.allow).append("\r\n");
      send(conn_, serial, ResponseHead{405, "application/json", allow},
           R"({"detail":"Method Not Allowed"})");
    } else {
      send(conn_, serial, ResponseHead{404, "application/json", {}}, R"({"detail":"Not Found"})");
    }
    return;
  }
  if (s.body_streamed && s.body.empty()) {
    // RFC 9110 §10.1.1 (RFC 9113 §8.1 allows 1xx HEADERS): a client waiting for 100 sends.
    std::string_view expect = h.header("expect");
    if (http::ascii_iequals(expect, "100-continue")) informational(conn_, serial, 100, {});
  }
  // One dispatch path with HTTP/1.1; a streamed body is read with read_body.
  http::Request req{h, s.match, s.body_streamed ? std::string_view() : std::string_view(s.body),
                    conn_.peer(), s.body_streamed};
  http::Response res(conn_, *this, serial);
  try {
    (*handler)(req, res);
  } catch (const std::exception& e) {
    FA_LOG(LogLevel::kError, "handler for %s %s threw: %s", s.method.c_str(), s.path.c_str(),
           e.what());
    if (Stream* live = open_stream(serial)) {
      if (live->streaming) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, live->id, NGHTTP2_INTERNAL_ERROR);
        finish_exchange(*live);
      } else {
        send(conn_, serial, ResponseHead{500, "application/json", {}},
             R"({"detail":"Internal Server Error"})");
      }
    }
  }
}

// --- responses ----------------------------------------------------------------------------

Stream* H2Protocol::find(uint64_t serial) const {
  auto it = streams_.find(static_cast<int32_t>(serial));
  return it == streams_.end() ? nullptr : it->second.get();
}

Stream* H2Protocol::open_stream(uint64_t serial) const {
  Stream* s = find(serial);
  return s && s->open && !s->reset && !closed_ ? s : nullptr;
}

bool H2Protocol::exchange_open(uint64_t serial) const {
  return open_stream(serial) != nullptr;
}

bool H2Protocol::started(uint64_t serial) const {
  Stream* s = open_stream(serial);
  return s && s->streaming;
}

bool H2Protocol::submit_head(Stream& s, const ResponseHead& head, int64_t content_length,
                             bool with_data) {
  ResponseFields fields(head.extra_headers);
  char status[4];
  std::to_chars(status, status + 3, head.status);
  char length[24];
  std::string_view length_str;
  if (content_length >= 0 && !fields.has_content_length() && status_has_body(head.status)) {
    auto r = std::to_chars(length, length + sizeof length, content_length);
    length_str = std::string_view(length, static_cast<size_t>(r.ptr - length));
  }
  std::string_view date = server_.date().header_line();  // "Date: <value>\r\n"
  date = date.substr(6, date.size() - 8);
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size() + 4);
  nva.push_back(make_nv(":status", std::string_view(status, 3)));
  nva.push_back(make_nv("date", date));
  if (!head.content_type.empty()) nva.push_back(make_nv("content-type", head.content_type));
  if (!length_str.empty()) nva.push_back(make_nv("content-length", length_str));
  fields.append_to(nva);
  nghttp2_data_provider provider{};
  provider.read_callback = cb_read;
  int rc = nghttp2_submit_response(session_, s.id, nva.data(), nva.size(),
                                   with_data ? &provider : nullptr);
  if (rc != 0) return false;
  s.provider_set = with_data;
  return true;
}

bool H2Protocol::informational(Connection&, uint64_t serial, int status,
                               std::string_view extra_headers) {
  // RFC 9113 §8.1: interim (1xx) HEADERS before the final response; 101 has no meaning here.
  Stream* s = open_stream(serial);
  if (!s || s->streaming || status < 100 || status > 199 || status == 101) return false;
  ResponseFields fields(extra_headers);
  char code[4];
  std::to_chars(code, code + 3, status);
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size() + 1);
  nva.push_back(make_nv(":status", std::string_view(code, 3)));
  fields.append_to(nva);
  if (nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s->id, nullptr, nva.data(), nva.size(),
                             nullptr) < 0)
    return false;
  if (!in_recv_) pump();
  return true;
}

bool H2Protocol::send(Connection&, uint64_t serial, const ResponseHead& head,
                      std::string_view body) {
  Stream* s = open_stream(serial);
  if (!s || s->streaming) return false;
  ResponseHead coded = head;
  s->compressor.on_send(coded, body, s->head_only);
  bool with_data = !s->head_only && status_has_body(head.status) && !body.empty();
  if (with_data) {
    s->out.assign(body);
    s->eof = true;
    note_queued(*s, 0);
  }
  if (!submit_head(*s, coded, static_cast<int64_t>(body.size()), with_data)) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
  }
  finish_exchange(*s);
  if (!in_recv_) pump();  // a deferred answer (a Python task): write it now
  return true;
}

bool H2Protocol::start(Connection&, uint64_t serial, const ResponseHead& head) {
  Stream* s = open_stream(serial);
  if (!s || s->streaming) return false;
  ResponseHead coded = head;
  bool has_length = false;  // a handler's Content-Length is kept (only dropped when encoding)
  for (std::string_view l = head.extra_headers; !l.empty() && !has_length;) {
    size_t eol = l.find('\n');
    std::string_view line = l.substr(0, eol);
    has_length = http::ascii_iequals(line.substr(0, line.find(':')), "content-length");
    l = eol == std::string_view::npos ? std::string_view() : l.substr(eol + 1);
  }
  s->compressor.on_start(coded, s->head_only, has_length);  // may drop Content-Length
  s->streaming = true;
  bool with_data = !s->head_only && status_has_body(head.status);
  if (!submit_head(*s, coded, -1, with_data)) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
    finish_exchange(*s);
  }
  if (!in_recv_) pump();
  return true;
}

bool H2Protocol::write(Connection& conn, uint64_t serial, std::string_view chunk) {
  Stream* s = open_stream(serial);
  if (!s || !s->streaming) return false;
  if (s->compressor.encoding() && !s->head_only && !chunk.empty() &&
      !s->compressor.on_write(chunk, chunk)) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
    finish_exchange(*s);
    if (!in_recv_) pump();
    return false;
  }
  if (!s->head_only && s->provider_set && !chunk.empty()) {
    note_queued(*s, s->pending());
    s->out.append(chunk);
    if (s->data_deferred) {
      s->data_deferred = false;
      nghttp2_session_resume_data(session_, s->id);
    }
  }
  int32_t id = s->id;
  if (!in_recv_) pump();
  s = open_stream(static_cast<uint64_t>(id));
  // Flow control backs up here: the stream's own window (its buffer) and the connection's.
  return s && s->pending() <= limits_.stream_high_water && !conn.closed() &&
         !conn.over_high_water();
}

bool H2Protocol::end(Connection& conn, uint64_t serial) {
  Stream* s = open_stream(serial);
  if (!s || !s->streaming) return false;
  if (s->compressor.encoding()) {
    std::string_view tail;
    if (!s->compressor.on_end(tail)) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
      finish_exchange(*s);
      if (!in_recv_) pump();
      return false;
    }
    if (!tail.empty() && !s->head_only) {
      note_queued(*s, s->pending());
      s->out.append(tail);
    }
  }
  s->eof = true;
  if (s->data_deferred) {
    s->data_deferred = false;
    nghttp2_session_resume_data(session_, s->id);
  }
  finish_exchange(*s);
  (void)conn;
  if (!in_recv_) pump();
  return true;
}

ssize_t H2Protocol::read_response(int32_t stream_id, uint8_t* buf, size_t length,
                                  uint32_t* flags) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  Stream& s = *it->second;
  size_t before = s.pending();
  size_t n = std::min(before, length);
  if (n == 0 && !s.eof) {
    s.data_deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  std::memcpy(buf, s.out.data() + s.out_off, n);
  s.out_off += n;
  if (n > 0) s.progress_at = server_.loop().now();
  if (s.out_off == s.out.size()) {
    s.out.clear();
    s.out_off = 0;
  } else if (s.out_off > 64 * 1024 && s.out_off * 2 > s.out.size()) {
    s.out.erase(0, s.out_off);  // keep the buffer from growing with a long stream
    s.out_off = 0;
  }
  if (s.eof && s.pending() == 0) *flags |= NGHTTP2_DATA_FLAG_EOF;
  if ((s.on_drain || s.tunnel) && before > limits_.stream_low_water &&
      s.pending() <= limits_.stream_low_water)
    drained_.push_back(stream_id);
  return static_cast<ssize_t>(n);
}

bool H2Protocol::tunnel(
    Connection&, uint64_t serial, const ResponseHead& head,
    const std::function<std::unique_ptr<http::Protocol>(http::ByteChannel&)>& bind) {
  Stream* s = open_stream(serial);
  if (!s || s->streaming || s->protocol.empty()) return false;
  auto ch = std::make_shared<StreamChannel>(*this, s->id);
  ch->on_bytes(s->body, false);  // DATA that came before the handler accepted (consumed)
  std::string().swap(s->body);
  s->streaming = true;
  if (!submit_head(*s, head, -1, true)) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
    finish_exchange(*s);
    if (!in_recv_) pump();
    return false;
  }
  ch->bind(bind(*ch));
  s->tunnel = ch;
  finish_exchange(*s);  // the request is answered; the stream lives on as the tunnel
  if (!ch->input().empty() || nghttp2_session_get_stream_remote_close(session_, s->id)) {
    if (nghttp2_session_get_stream_remote_close(session_, s->id)) ch->on_peer_end();
    // Delivered on the loop's next turn: the caller holds its protocol's objects by then.
    server_.loop().defer([w = std::weak_ptr<StreamChannel>(ch)] {
      if (auto c = w.lock()) c->deliver();
    });
  }
  if (!in_recv_) pump();
  return true;
}

void H2Protocol::deliver_tunnels() {
  std::vector<int32_t> ready;
  ready.swap(tunnel_ready_);
  for (int32_t id : ready) {
    Stream* s = find(static_cast<uint64_t>(id));
    if (s && s->tunnel) s->tunnel->deliver();
    if (closed_) return;
  }
}

bool H2Protocol::set_drain_callback(uint64_t serial, std::function<void()> fn) {
  Stream* s = open_stream(serial);
  if (!s) return false;
  s->on_drain = std::move(fn);
  // Already below the mark: the producer must not wait for an edge that will not come.
  if (s->pending() <= limits_.stream_low_water && !conn_.over_high_water())
    drained_.push_back(s->id);
  if (!in_recv_ && !pumping_)
    server_.loop().defer([w = conn_.weak_from_this(), this] {
      auto c = w.lock();
      if (c && !c->closed() && c->protocol() == this) pump();
    });
  return true;
}

bool H2Protocol::set_done_callback(uint64_t serial, std::function<void()> fn) {
  Stream* s = open_stream(serial);
  if (!s) return false;
  s->on_done = std::move(fn);
  return true;
}

bool H2Protocol::over_high_water(const Connection& conn, uint64_t serial) const {
  Stream* s = find(serial);
  return conn.over_high_water() || (s && s->pending() > limits_.stream_high_water);
}

bool H2Protocol::client_gone(const Connection& conn, uint64_t serial) const {
  Stream* s = find(serial);
  return conn.closed() || closed_ || !s || s->reset;
}

bool H2Protocol::abort(Connection&, uint64_t serial) {
  Stream* s = find(serial);
  if (!s || s->reset || closed_) return false;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
  finish_exchange(*s);
  if (!in_recv_) pump();
  return true;
}

void H2Protocol::finish_exchange(Stream& s) {
  if (!s.open) return;
  s.open = false;
  if (s.body_streamed) end_body(s);
  server_.exchange_finished();
  if (s.on_done) {
    server_.loop().defer(std::move(s.on_done));  // after the response is flushed (as h1)
    s.on_done = nullptr;
  }
}

void H2Protocol::stream_gone(Stream& s) {
  s.reset = true;
  if (s.tunnel) s.tunnel->gone();
  clear_body_timer(s);
  if (s.body_streamed) {  // no read can take what is left
    if (!s.body_end && s.body_fail < 0) s.body_fail = 0;  // the client left
    std::string().swap(s.body);
    s.body_unconsumed = 0;
  }
  if (s.reader) {
    auto fn = std::move(s.reader);
    s.reader = nullptr;
    fn(http::BodyEvent::kError, {}, s.body_fail < 0 ? 0 : s.body_fail);
  }
  if (s.open) {
    s.open = false;
    server_.exchange_finished();
    if (s.on_done) server_.loop().defer(std::move(s.on_done));
    s.on_done = nullptr;
  }
  if (s.on_drain) {
    auto fn = std::move(s.on_drain);
    s.on_drain = nullptr;
    server_.loop().defer(std::move(fn));  // wake the producer: it will see the stream gone
  }
}

// --- streams whose window never opens ------------------------------------------------------

void H2Protocol::note_queued(Stream& s, size_t pending_before) {
  if (pending_before == 0) s.progress_at = server_.loop().now();
  if (!stall_timer_ && !closed_)
    schedule_stall_check(s.progress_at + server_.config().send_timeout);
}

void H2Protocol::schedule_stall_check(TimePoint when) {
  stall_timer_ = server_.loop().call_at(when, [w = conn_.weak_from_this(), this] {
    auto c = w.lock();  // the connection owns `this`: alive while it is and names us
    if (!c || c->protocol() != this) return;
    stall_timer_ = 0;
    if (!c->closed()) check_stalls();
  });
}

void H2Protocol::check_stalls() {
  const Duration timeout = server_.config().send_timeout;
  const TimePoint now = server_.loop().now();
  TimePoint next = TimePoint::max();
  std::vector<Stream*> stalled;
  for (auto& [id, s] : streams_) {
    if (s->reset || s->pending() == 0) continue;
    if (now - s->progress_at >= timeout)
      stalled.push_back(s.get());
    else
      next = std::min(next, s->progress_at + timeout);
  }
  for (Stream* s : stalled) {
    FA_LOG(
        LogLevel::kInfo, "h2: resetting stream %d: the peer took none of its %zu bytes for %lld s",
        s->id, s->pending(),
        static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    std::string().swap(s->out);  // the memory goes now, not when the peer answers the reset
    s->out_off = 0;
    stream_gone(*s);  // the producer wakes and finds its stream gone
  }
  if (next != TimePoint::max()) schedule_stall_check(next);
  if (!stalled.empty()) pump();
}

// --- bytes out ----------------------------------------------------------------------------

void H2Protocol::pump() {
  if (closed_ || conn_.closed()) return;
  if (pumping_) {
    repump_ = true;
    return;
  }
  pumping_ = true;
  do {
    repump_ = false;
    while (!conn_.over_high_water()) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        pumping_ = false;
        conn_.close_now();
        return;
      }
      if (n == 0) break;
      conn_.output().append(std::string_view(reinterpret_cast<const char*>(data), size_t(n)));
    }
    std::vector<int32_t> ready;
    ready.swap(drained_);
    for (int32_t id : ready) {
      Stream* s = find(static_cast<uint64_t>(id));
      if (s && s->tunnel && !conn_.over_high_water()) {
        auto ch = s->tunnel;
        ch->on_drain();  // may write(): that sets repump_
        if (conn_.closed()) {
          pumping_ = false;
          return;
        }
        continue;
      }
      if (!s || !s->on_drain || conn_.over_high_water()) continue;
      auto fn = std::move(s->on_drain);
      s->on_drain = nullptr;
      fn();  // may write(): that sets repump_
      if (conn_.closed()) {
        pumping_ = false;
        return;
      }
    }
  } while (repump_);
  pumping_ = false;
  if (!in_recv_) conn_.flush();
  if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_))
    conn_.close_after_flush();  // GOAWAY exchanged, or a connection error
}

void H2Protocol::fail(uint32_t error_code) {
  nghttp2_session_terminate_session(session_, error_code);
  pump();
  conn_.close_after_flush();
}

// --- connection events --------------------------------------------------------------------

void H2Protocol::on_drain(Connection&) {
  // The socket took our bytes: more frames may go, and producers below the mark resume.
  for (auto& [id, s] : streams_)
    if ((s->on_drain || s->tunnel) && s->pending() <= limits_.stream_low_water)
      drained_.push_back(id);
  pump();
}

void H2Protocol::on_peer_closed(Connection& conn) {
  if (streams_.empty()) conn.close_now();
  // Otherwise the open streams finish; the connection closes after the last one.
  draining_ = true;
  // No frame can follow: a body still waiting for END_STREAM will not be completed.
  for (auto& [id, s] : streams_)
    if (s->body_streamed && !s->body_end && s->body_fail < 0) {
      s->body_fail = 0;
      note_body(*s);
    }
  if (!body_ready_.empty()) deliver_bodies();
}

void H2Protocol::on_close(Connection&) {
  closed_ = true;
  if (stall_timer_) server_.loop().cancel(stall_timer_);
  stall_timer_ = 0;
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, s] : streams) stream_gone(*s);
}

void H2Protocol::on_timeout(Connection& conn) {
  if (!streams_.empty()) return;  // handlers have no deadline here (as h1)
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  pump();
  conn.close_after_flush();
}

void H2Protocol::on_shutdown(Connection& conn) {
  // RFC 9113 §6.8: GOAWAY names the last stream we will answer; those in flight finish.
  draining_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  // Tunnels (RFC 8441) run their own close: a WebSocket sends 1001 and ends its stream.
  std::vector<std::shared_ptr<StreamChannel>> tunnels;
  for (auto& [id, s] : streams_)
    if (s->tunnel) tunnels.push_back(s->tunnel);
  for (auto& t : tunnels) t->on_shutdown();
  pump();
  if (streams_.empty()) conn.close_after_flush();
}

}  // namespace fa::h2
