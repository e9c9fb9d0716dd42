// HttpUpstream: Streamable HTTP POSTs on pooled keep-alive connections.
#include "mcp/client/http_upstream.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include "mcp/client/fd_stream.h"
#include "mcp/client/http_response.h"

namespace fa::mcp::client {

bool parse_http_url(std::string_view url, HttpUrl& out) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  url.remove_prefix(kScheme.size());
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority;
  out.port = 80;
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

  void start(Pending p) {
    busy = true;
    got_bytes_ = false;
    body_.clear();
    sse_mode_ = false;
    status_ = 0;
    parser_.reset();
    sse_ = SseParser();
    current = std::move(p);
    stream->write(current.bytes);
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
    stream.reset();
    if (busy && parser_.finish(*this)) return complete();
    std::string why = error ? std::strerror(error) : "the server closed the connection";
    if (!busy) return up_.failed(self, {}, false, why);
    bool stale = reused && !got_bytes_;  // a pooled connection the server had already closed
    up_.failed(self, std::move(current), stale, "Connection closed: " + why);
  }

  void on_head(const ResponseHead& head) override {
    status_ = head.status;
    sse_mode_ = head.header("content-type").starts_with("text/event-stream");
    up_.on_head_seen(head.header("mcp-session-id"));
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
    if (event.type == "message" && !event.data.empty()) up_.on_message(event.data);
  }

  std::shared_ptr<FdStream> stream;
  Pending current;
  bool busy = false, reused = false;

 private:
  void complete() {
    auto self = shared_from_this();
    if (!sse_mode_ && !body_.empty() && body_.front() == '{') up_.on_message(body_);
    busy = false;
    if (status_ == 404 && !up_.session_id_.empty()) up_.expired_ = true;
    uint64_t id = current.id;
    // The response ended without answering the request (an HTTP error, a 202 for a request).
    if (id) up_.fail_id(id, "HTTP " + std::to_string(status_) + " without a JSON-RPC response");
    up_.exchange_done(self, parser_.keep_alive());
  }

  HttpUpstream& up_;
  HttpResponseParser parser_;
  SseParser sse_;
  std::string body_;
  int status_ = 0;
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
}

HttpUpstream::~HttpUpstream() {
  closed_ = true;
  conns_.clear();
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
  return make_ready_future<>();
}

std::string HttpUpstream::head(size_t body_size, const Request* request) const {
  std::string h = "POST ";
  h += url_.path;
  h += " HTTP/1.1\r\nHost: ";
  h += url_.host;
  if (url_.port != 80) h += ":" + std::to_string(url_.port);
  h += "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
       "Content-Length: ";
  h += std::to_string(body_size);
  h += "\r\n";
  if (!session_id_.empty()) h += "Mcp-Session-Id: " + session_id_ + "\r\n";
  const std::string& version = protocol_version();
  if (modern_) {
    h += "MCP-Protocol-Version: ";
    h += kModernProtocol;
    h += "\r\n";
  } else if (!version.empty()) {
    h += "MCP-Protocol-Version: " + version + "\r\n";
  }
  if (modern_ && request) {
    // 2026-07-28 streamable-http.mdx "Standard MCP Request Headers"; names that are not plain
    // visible ASCII are left out rather than mis-encoded.
    h += "Mcp-Method: ";
    h += request->method;
    h += "\r\n";
    bool plain =
        !request->name.empty() && request->name.front() != ' ' && request->name.back() != ' ';
    for (char c : request->name) plain = plain && c >= 0x20 && c <= 0x7e;
    if (plain) {
      h += "Mcp-Name: ";
      h += request->name;
      h += "\r\n";
    }
  }
  h += http_.headers;
  h += "\r\n";
  return h;
}

void HttpUpstream::send_request(uint64_t id, std::string&& body, const Request& request) {
  Pending p;
  p.id = id;
  p.bytes = head(body.size(), &request);
  p.bytes += body;
  enqueue(std::move(p));
}

void HttpUpstream::send_notification(std::string&& body) {
  Pending p;
  p.bytes = head(body.size(), nullptr);
  p.bytes += body;
  enqueue(std::move(p));
}

void HttpUpstream::enqueue(Pending p) {
  if (closed_) {
    if (p.id) fail_id(p.id, "Connection closed");
    return;
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

std::shared_ptr<HttpUpstream::Conn> HttpUpstream::connect() {
  int fd = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || (::connect(fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_) != 0 &&
                 errno != EINPROGRESS)) {
    std::string why = std::string("connect to ") + url_.host + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
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
  conn->stream = FdStream::open(loop_, fd, true, true,
                                {[weak](std::string_view b) {
                                   if (auto c = weak.lock()) c->on_data(b);
                                 },
                                 [weak](int e) {
                                   if (auto c = weak.lock()) c->on_closed(e);
                                 }});
  conn->stream->on_writable([] {});  // writes wait for the connect to finish
  conns_.push_back(conn);
  return conn;
}

void HttpUpstream::exchange_done(const std::shared_ptr<Conn>& conn, bool reusable) {
  if (!reusable) {
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
  if (stale && !p.retried && !closed_) {
    p.retried = true;  // RFC 9112 §9.3.1: a request on a connection closed under it may be retried
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

void HttpUpstream::on_head_seen(std::string_view session_id) {
  if (!session_id.empty() && session_id_.empty()) session_id_.assign(session_id);
}

void HttpUpstream::close() {
  if (closed_) return;
  closed_ = true;
  auto conns = std::move(conns_);
  conns_.clear();
  for (auto& c : conns)
    if (c->stream) c->stream->close();
  queue_.clear();
  correlator_.fail_all("Connection closed");
}

}  // namespace fa::mcp::client
