// HttpUpstream: Streamable HTTP POSTs on pooled keep-alive connections.
#include "mcp/client/http_upstream.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include "core/future_timers.h"
#include "mcp/client/fd_stream.h"
#include "mcp/client/http_response.h"
#include "tls/tls_transport.h"

namespace fa::mcp::client {

void append_header_value(std::string& out, std::string_view value) {
  // Plain: visible ASCII and inner spaces, no edge spaces; and not itself shaped like the
  // sentinel (=?base64?...?=), which the spec says must be encoded to stay unambiguous. An
  // empty value is encoded too (=?base64??=): an empty header reads as a missing one.
  bool plain = !value.empty() && value.front() != ' ' && value.back() != ' ';
  for (char c : value) plain = plain && c >= 0x20 && c <= 0x7e;
  if (plain && value.starts_with("=?base64?") && value.ends_with("?=") && value.size() >= 11)
    plain = false;
  if (plain) {
    out += value;
    return;
  }
  // RFC 4648 §4 base64 (with padding) of the value's bytes.
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out += "=?base64?";
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(value[i])); };
  size_t i = 0;
  for (; i + 3 <= value.size(); i += 3) {
    uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (size_t rest = value.size() - i) {
    uint32_t n = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  out += "?=";
}

bool is_token(std::string_view name) {
  // RFC 9110 §5.6.2: token = 1*tchar.
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  if (name.empty()) return false;
  for (char c : name) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!alnum && kSpecials.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::string HttpUrl::authority() const {
  bool v6 = host.find(':') != std::string::npos;
  std::string a = v6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) a += ":" + std::to_string(port);
  return a;
}

bool parse_http_url(std::string_view url, HttpUrl& out) {
  constexpr std::string_view kHttp = "http://", kHttps = "https://";
  out.tls = url.substr(0, kHttps.size()) == kHttps;
  if (!out.tls && url.substr(0, kHttp.size()) != kHttp) return false;
  url.remove_prefix(out.tls ? kHttps.size() : kHttp.size());
  uint16_t default_port = out.tls ? 443 : 80;
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority;
  out.port = default_port;
  if (authority.front() == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return false;
    if (!authority.empty())
      authority.remove_prefix(1);
    else
      authority = {};
    if (!authority.empty()) {
      auto [end, ec] =
          std::from_chars(authority.data(), authority.data() + authority.size(), out.port);
      if (ec != std::errc() || end != authority.data() + authority.size()) return false;
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    std::string_view port = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size()) return false;
  }
  if (host.empty()) return false;
  out.host.assign(host);
  return true;
}

// One keep-alive connection: writes requests one at a time and parses their responses.
class HttpUpstream::Conn final : public ResponseSink,
                                 public SseSink,
                                 public std::enable_shared_from_this<Conn> {
 public:
  explicit Conn(HttpUpstream& up) : up_(up) {}
  ~Conn() override {
    if (stream) stream->close();
  }

  void start(Pending&& p) {
    busy = true;
    got_bytes_ = false;
    body_.clear();
    sse_mode_ = false;
    status_ = 0;
    www_authenticate_.clear();
    parser_.reset();
    sse_ = SseParser();
    events_ = 0;
    current = std::move(p);
    stream->write(current.bytes, current.body);
  }

  void on_data(std::string_view bytes) {
    auto self = shared_from_this();
    if (!busy) {  // bytes nobody asked for: not HTTP we can follow
      return up_.failed(self, {}, false, "unexpected bytes from the server");
    }
    got_bytes_ = true;
    parser_.feed(bytes, *this);
    if (parser_.failed())
      return up_.failed(self, std::move(current), false, "bad HTTP response: " + parser_.error());
    if (parser_.done()) complete();
  }
  void on_closed(int error) {
    auto self = shared_from_this();
    std::string tls_error = tls ? tls->error() : std::string();
    tls = nullptr;  // owned by the stream
    stream.reset();
    if (!tls_error.empty())  // not stale, and not retried: the same handshake would fail again
      return up_.failed(self, std::move(current), false,
                        "TLS handshake with " + up_.url_.authority() + " failed: " + tls_error);
    if (busy && parser_.finish(*this)) return complete();
    std::string why = error ? std::strerror(error) : "the server closed the connection";
    if (!busy) return up_.failed(self, {}, false, why);
    bool stale = reused && !got_bytes_;  // a pooled connection the server had already closed
    up_.failed(self, std::move(current), stale, "Connection closed: " + why);
  }

  void on_head(const ResponseHead& head) override {
    status_ = head.status;
    if (status_ == 401 || status_ == 403) www_authenticate_ = head.header("www-authenticate");
    sse_mode_ = head.header("content-type").starts_with("text/event-stream");
    up_.on_head_seen(head.header("mcp-session-id"), head.header("dpop-nonce"));
  }
  void on_body(std::string_view bytes) override {
    if (sse_mode_) {
      if (!sse_.feed(bytes, *this)) body_ = "SSE event too large";
    } else if (body_.size() + bytes.size() <= kMaxMessageBytes) {
      body_.append(bytes);
    }
  }
  void on_complete() override {}
  void on_event(const SseEvent& event) override {
    ++events_;
    if (event.type != "message" || event.data.empty()) return;
    up_.related_ = current.kind == Kind::kListen ? 0 : current.id;
    up_.on_message(event.data);
    up_.related_ = 0;
  }

  std::shared_ptr<FdStream> stream;
  tls::TlsTransport* tls = nullptr;  // https: the stream's transport (for its failure reason)
  Pending current;
  bool busy = false, reused = false;

 private:
  void complete() {
    auto self = shared_from_this();
    if (!sse_mode_ && !body_.empty() && body_.front() == '{') up_.on_message(body_);
    busy = false;
    if (status_ == 404 && !up_.session_id_.empty()) up_.expired_ = true;
    Ending e;
    e.status = status_;
    e.sse = sse_mode_;
    e.events = events_;
    e.last_event_id = sse_.last_event_id();
    e.has_retry = sse_.has_retry();
    e.retry_ms = sse_.retry_ms();
    e.www_authenticate = www_authenticate_;
    up_.ended(self, std::move(current), e, parser_.keep_alive());
  }

  HttpUpstream& up_;
  HttpResponseParser parser_;
  SseParser sse_;
  std::string body_;
  std::string www_authenticate_;
  int status_ = 0;
  size_t events_ = 0;
  bool sse_mode_ = false, got_bytes_ = false;
};

std::shared_ptr<HttpUpstream> HttpUpstream::create(EventLoop& loop, const HttpUrl& url,
                                                   UpstreamOptions options,
                                                   HttpUpstreamOptions http) {
  return std::shared_ptr<HttpUpstream>(
      new HttpUpstream(loop, url, std::move(options), std::move(http)));
}

HttpUpstream::HttpUpstream(EventLoop& loop, const HttpUrl& url, UpstreamOptions options,
                           HttpUpstreamOptions http)
    : Upstream(loop, std::move(options)), url_(url), http_(std::move(http)) {
  if (http_.max_connections == 0) http_.max_connections = 1;
  // What every POST's head starts with, made once.
  post_prefix_ = "POST " + url_.path + " HTTP/1.1\r\nHost: " + url_.authority() +
                 "\r\nContent-Type: application/json\r\nAccept: application/json, "
                 "text/event-stream\r\nContent-Length: ";
}

HttpUpstream::~HttpUpstream() {
  closed_ = true;
  conns_.clear();
  listener_.reset();
  closer_.reset();
}

future<> HttpUpstream::open() {
  // Resolved once, here (getaddrinfo blocks; upstreams are usually numeric or "localhost").
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(url_.port);
  int rc = ::getaddrinfo(url_.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || !res)
    return make_exception_future<>(
        std::runtime_error("cannot resolve " + url_.host + ": " + ::gai_strerror(rc)));
  std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
  addr_len_ = res->ai_addrlen;
  ::freeaddrinfo(res);
  if (url_.tls && !tls_) {
    try {
      tls::TlsClientConfig tc;
      tc.verify = http_.tls_verify;
      tc.cafile = http_.tls_cafile;
      tls_ = tls::TlsClientContext::create(tc);
    } catch (const tls::TlsError& e) {
      return make_exception_future<>(std::runtime_error(e.what()));
    }
  }
  return make_ready_future<>();
}

std::string HttpUpstream::head(size_t body_size, const Request* request) const {
  using namespace std::string_view_literals;  // appends of known length: no strlen per piece
  // One allocation: the fixed prefix, then room for the per-request headers.
  std::string h;
  h.reserve(post_prefix_.size() + session_id_.size() + http_.headers.size() + 256 +
            (request ? request->method.size() + request->name.size() : 0));
  h += post_prefix_;
  char digits[24];
  h.append(digits, static_cast<size_t>(
                       std::to_chars(digits, digits + sizeof digits, body_size).ptr - digits));
  h += "\r\n"sv;
  if (!session_id_.empty()) {
    h += "Mcp-Session-Id: "sv;
    h += session_id_;
    h += "\r\n"sv;
  }
  const std::string& version = protocol_version();
  if (modern_) {
    h += "MCP-Protocol-Version: 2026-07-28\r\n"sv;
    static_assert(kModernProtocol == "2026-07-28");
  } else if (!version.empty()) {
    h += "MCP-Protocol-Version: "sv;
    h += version;
    h += "\r\n"sv;
  }
  if (modern_ && request) {
    // 2026-07-28 streamable-http.mdx "Standard MCP Request Headers".
    h += "Mcp-Method: "sv;
    h += request->method;
    h += "\r\n"sv;
    if (!request->name.empty()) {
      h += "Mcp-Name: "sv;
      append_header_value(h, request->name);
      h += "\r\n"sv;
    }
    // "Custom Headers from Tool Parameters": one Mcp-Param-{Name} per annotated argument. A
    // name that is not an RFC 9110 token is not sent (it could split the header block).
    for (const ParamHeader& p : request->param_headers) {
      if (!is_token(p.name)) continue;
      h += "Mcp-Param-"sv;
      h += p.name;
      h += ": "sv;
      append_header_value(h, p.value);
      h += "\r\n"sv;
    }
  }
  h += http_.headers;
  append_dpop(h, "POST");
  h += "\r\n"sv;
  return h;
}

void HttpUpstream::send_request(uint64_t id, std::string&& body, const Request& request) {
  Pending p;
  p.id = id;
  p.bytes = head(body.size(), &request);
  p.body = std::move(body);  // written after the head in one writev, not copied into it
  enqueue(std::move(p));
}

void HttpUpstream::send_notification(std::string&& body) {
  Pending p;
  p.bytes = head(body.size(), nullptr);
  p.body = std::move(body);
  enqueue(std::move(p));
}

std::string HttpUpstream::bodiless_head(std::string_view method,
                                        std::string_view last_event_id) const {
  std::string h(method);
  h += ' ';
  h += url_.path;
  h += " HTTP/1.1\r\nHost: ";
  h += url_.authority();
  h += method == "GET" ? "\r\nAccept: text/event-stream\r\n" : "\r\nContent-Length: 0\r\n";
  if (!session_id_.empty()) h += "Mcp-Session-Id: " + session_id_ + "\r\n";
  if (modern_) {
    h += "MCP-Protocol-Version: ";
    h += kModernProtocol;
    h += "\r\n";
  } else if (!protocol_version().empty()) {
    h += "MCP-Protocol-Version: " + protocol_version() + "\r\n";
  }
  // transports.mdx "Resumability and Redelivery": the server replays what came after this id.
  if (!last_event_id.empty()) h += "Last-Event-ID: " + std::string(last_event_id) + "\r\n";
  h += http_.headers;
  append_dpop(h, method);
  h += "\r\n";
  return h;
}

void HttpUpstream::ended(const std::shared_ptr<Conn>& conn, Pending p, const Ending& e,
                         bool reusable) {
  switch (p.kind) {
    case Kind::kPost:
    case Kind::kResume: {
      if (!p.id || !correlator_.pending(p.id)) break;
      std::string last = e.last_event_id.empty() ? p.last_event_id : e.last_event_id;
      if (e.sse && e.status == 200 && !last.empty() && p.attempts < 3 && !closed_) {
        // The stream ended before the answer: resume it (transports.mdx "Resumability").
        p.kind = Kind::kResume;
        p.last_event_id = std::move(last);
        if (e.has_retry) p.retry_ms = e.retry_ms;
        ++p.attempts;
        p.retried = false;
        uint64_t delay = p.retry_ms;
        resume_later(std::move(p), delay);
        break;
      }
      // The response ended without answering the request (an HTTP error, a 202 for a request).
      if (e.status == 404 && !session_id_.empty())
        fail_id(p.id, "HTTP 404: the server no longer knows this session");
      else if (!e.www_authenticate.empty())  // the caller's OAuth client reads the challenge
        fail_id(p.id, "HTTP " + std::to_string(e.status) +
                          " without a JSON-RPC response; WWW-Authenticate: " + e.www_authenticate);
      else
        fail_id(p.id, "HTTP " + std::to_string(e.status) + " without a JSON-RPC response");
      break;
    }
    case Kind::kListen: {
      if (conn == listener_) listener_.reset();
      if (e.status != 200 || !e.sse) return exchange_done(conn, false);  // 405: no such stream
      if (!e.last_event_id.empty()) p.last_event_id = e.last_event_id;
      if (e.has_retry) p.retry_ms = e.retry_ms;
      exchange_done(conn, false);
      uint64_t delay = p.retry_ms ? p.retry_ms : 1000;
      return listener_ended(std::move(p), e.events, delay);
    }
    case Kind::kDelete:
      if (conn == closer_) closer_.reset();
      if (p.done) p.done->set_value();
      return exchange_done(conn, false);
  }
  exchange_done(conn, reusable);
}

void HttpUpstream::resume_later(Pending p, uint64_t delay_ms) {
  p.bytes = bodiless_head("GET", p.last_event_id);
  p.body.clear();  // the POST's body does not go with the GET
  std::weak_ptr<Upstream> weak = weak_from_this();
  auto held = std::make_shared<Pending>(std::move(p));
  loop_.call_later(std::chrono::milliseconds(delay_ms), [weak, held] {
    auto self = std::static_pointer_cast<HttpUpstream>(weak.lock());
    if (!self) return;
    if (self->closed_) return self->fail_id(held->id, "Connection closed");
    if (self->correlator_.pending(held->id)) self->enqueue(std::move(*held));
  });
}

void HttpUpstream::listen() {
  if (closed_ || expired_ || listener_ || session_id_.empty() || !http_.listen) return;
  open_listener({}, 0, 0);
}

void HttpUpstream::open_listener(std::string last_event_id, int attempts, uint64_t retry_ms) {
  if (closed_ || expired_ || listener_) return;
  auto conn = connect(/*pooled=*/false);
  if (!conn) return;
  listener_ = conn;
  Pending p;
  p.kind = Kind::kListen;
  p.last_event_id = std::move(last_event_id);
  p.attempts = attempts;
  p.retry_ms = retry_ms;
  p.bytes = bodiless_head("GET", p.last_event_id);
  conn->start(std::move(p));
}

// The GET stream ended or failed: open it again after the server's retry delay, resuming from
// the last event; three failures in a row without an event give up.
void HttpUpstream::listener_ended(Pending p, size_t events, uint64_t delay_ms) {
  int attempts = events ? 0 : p.attempts + 1;
  if (closed_ || expired_ || attempts >= 3) return;
  std::weak_ptr<Upstream> weak = weak_from_this();
  loop_.call_later(std::chrono::milliseconds(delay_ms),
                   [weak, last = std::move(p.last_event_id), attempts, retry = p.retry_ms] {
                     if (auto self = std::static_pointer_cast<HttpUpstream>(weak.lock()))
                       self->open_listener(last, attempts, retry);
                   });
}

future<> HttpUpstream::shutdown() {
  if (closed_ || expired_ || session_id_.empty() || modern_) {
    close();
    return make_ready_future<>();
  }
  if (listener_) {
    if (listener_->stream) listener_->stream->close();
    listener_.reset();
  }
  // transports.mdx "Session Management": a client that no longer needs the session SHOULD
  // send DELETE. On its own connection, so calls still in flight do not hold it up.
  auto done = std::make_shared<promise<>>();
  future<> deleted = done->get_future();
  auto conn = connect(/*pooled=*/false);
  if (!conn) {
    close();
    return make_ready_future<>();
  }
  closer_ = conn;
  Pending p;
  p.kind = Kind::kDelete;
  p.done = done;
  p.bytes = bodiless_head("DELETE", {});
  conn->start(std::move(p));
  std::weak_ptr<Upstream> weak = weak_from_this();
  return with_timeout(loop_, std::chrono::seconds(2), std::move(deleted))
      .then_wrapped([weak](future<>&& f) {
        if (f.failed()) (void)f.get_exception();
        if (auto self = weak.lock()) self->close();
      });
}

void HttpUpstream::enqueue(Pending&& p) {
  if (closed_) {
    if (p.id) fail_id(p.id, "Connection closed");
    return;
  }
  if (queue_.empty()) {  // the usual case: an idle pooled connection takes it at once
    for (auto& c : conns_)
      if (!c->busy && c->stream) {
        auto conn = c;  // start() may drop it from the pool (a failed write)
        conn->reused = true;
        return conn->start(std::move(p));
      }
  }
  queue_.push_back(std::move(p));
  dispatch();
}

void HttpUpstream::dispatch() {
  while (!queue_.empty() && !closed_) {
    std::shared_ptr<Conn> conn;
    for (auto& c : conns_)
      if (!c->busy && c->stream) {
        conn = c;
        conn->reused = true;
        break;
      }
    if (!conn) {
      if (conns_.size() >= http_.max_connections) return;  // the next finished exchange resumes
      conn = connect();
      if (!conn) return;
    }
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    conn->start(std::move(p));
  }
}

std::shared_ptr<HttpUpstream::Conn> HttpUpstream::connect(bool pooled) {
  int fd = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || (::connect(fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_) != 0 &&
                 errno != EINPROGRESS)) {
    std::string why = std::string("connect to ") + url_.host + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    if (!pooled) return nullptr;
    // Nothing can be sent: every queued request fails now, rather than waiting for its timeout.
    auto queue = std::move(queue_);
    queue_.clear();
    for (auto& p : queue)
      if (p.id) fail_id(p.id, "Connection closed: " + why);
    return nullptr;
  }
  ++connects_;
  auto conn = std::make_shared<Conn>(*this);
  std::weak_ptr<Conn> weak = conn;
  std::unique_ptr<Transport> transport;
  if (tls_) {
    auto t = std::make_unique<tls::TlsTransport>(fd, tls_, url_.host);
    conn->tls = t.get();
    transport = std::move(t);
  }
  conn->stream = FdStream::open(loop_, fd, true, true,
                                {[weak](std::string_view b) {
                                   if (auto c = weak.lock()) c->on_data(b);
                                 },
                                 [weak](int e) {
                                   if (auto c = weak.lock()) c->on_closed(e);
                                 }},
                                std::move(transport));
  conn->stream->on_writable([] {});  // writes wait for the connect to finish
  if (pooled) conns_.push_back(conn);
  return conn;
}

void HttpUpstream::exchange_done(const std::shared_ptr<Conn>& conn, bool reusable) {
  if (!reusable || std::find(conns_.begin(), conns_.end(), conn) == conns_.end()) {
    if (conn->stream) conn->stream->close();
    std::erase(conns_, conn);
  }
  dispatch();
}

void HttpUpstream::failed(const std::shared_ptr<Conn>& conn, Pending p, bool stale,
                          std::string_view why) {
  if (conn->stream) conn->stream->close();
  conn->busy = false;
  std::erase(conns_, conn);
  if (conn == listener_) {
    listener_.reset();
    uint64_t delay = p.retry_ms ? p.retry_ms : 1000;
    if (p.kind == Kind::kListen) listener_ended(std::move(p), 0, delay);
    return dispatch();
  }
  if (conn == closer_) closer_.reset();
  if (p.done) p.done->set_value();
  if (stale && !p.retried && !closed_) {
    p.retried = true;  // RFC 9112 §9.3.1: a request on a connection closed under it may be retried
    renew_dpop(p.bytes);
    queue_.push_front(std::move(p));
  } else if (p.id) {
    fail_id(p.id, why);
  }
  dispatch();
}

bool HttpUpstream::cancel_in_transport(uint64_t id) {
  if (!modern_) return false;  // a session: notifications/cancelled names the request in it
  // Stateless (2026-07-28): the server cancels a request whose client closed its connection.
  for (auto it = queue_.begin(); it != queue_.end(); ++it)
    if (it->id == id) {
      queue_.erase(it);  // not sent yet
      return true;
    }
  for (auto& c : conns_)
    if (c->busy && c->current.id == id) {
      auto conn = c;
      if (conn->stream) conn->stream->close();
      std::erase(conns_, conn);
      dispatch();
      return true;
    }
  return true;  // already answered: nothing to cancel
}

void HttpUpstream::fail_id(uint64_t id, std::string_view why) {
  std::string discard;  // the notifications/cancelled abandon() writes is not sent
  correlator_.abandon(id, discard, kConnectionClosed, why);
}

void HttpUpstream::on_head_seen(std::string_view session_id, std::string_view dpop_nonce) {
  if (!session_id.empty() && session_id_.empty()) session_id_.assign(session_id);
  // RFC 9449 §8/§9: the server's latest nonce goes into the next proofs (a 401 use_dpop_nonce
  // carries one; the caller then sends the request again).
  if (!dpop_nonce.empty()) dpop_nonce_.assign(dpop_nonce);
}

void HttpUpstream::append_dpop(std::string& h, std::string_view method) const {
  if (!http_.dpop) return;
  std::string htu = (url_.tls ? "https://" : "http://") + url_.authority() + url_.path;
  std::string proof = http_.dpop(method, htu, dpop_nonce_);
  if (proof.empty() || proof.find_first_of("\r\n") != std::string::npos) return;
  h += "DPoP: ";
  h += proof;
  h += "\r\n";
}

void HttpUpstream::renew_dpop(std::string& bytes) const {
  if (!http_.dpop) return;
  // RFC 9449 §11.1: a proof's jti is unique, and a server may remember the ones it saw; the
  // request sent again (it may have reached the server before its connection closed) gets a
  // proof of its own, with the latest nonce. The old DPoP line goes, a fresh one ends the head.
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string::npos) return;
  std::string head = bytes.substr(0, end + 2);  // through the last header's CRLF
  constexpr std::string_view kField = "\r\nDPoP: ";
  if (size_t at = head.find(kField); at != std::string::npos)
    head.erase(at + 2, head.find("\r\n", at + kField.size()) - at);
  append_dpop(head, std::string_view(bytes).substr(0, bytes.find(' ')));
  bytes.replace(0, end + 2, head);
}

void HttpUpstream::close() {
  if (closed_) return;
  closed_ = true;
  auto conns = std::move(conns_);
  conns_.clear();
  for (auto& c : conns)
    if (c->stream) c->stream->close();
  for (auto* c : {&listener_, &closer_})
    if (*c && (*c)->stream) (*c)->stream->close();
  listener_.reset();
  closer_.reset();
  queue_.clear();
  correlator_.fail_all("Connection closed");
  closed_because("the client closed the connection");
}

}  // namespace fa::mcp::client
