// HttpTransport: Streamable HTTP on http::Server routes.
#include "mcp/http_transport.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "http/ascii.h"
#include "mcp/event_log.h"
#include "mcp/jsonrpc.h"
#include "mcp/random_id.h"

namespace fa::mcp {

namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kEventStream = "text/event-stream";
// An SSE comment line (WHATWG HTML §9.2.6: a line starting with ':' is ignored by clients).
constexpr std::string_view kPingComment = ": ping\n\n";

// One POST's exchange: the first message decides the content type — a lone response goes
// out as application/json, anything before it turns the answer into an SSE stream.
class HttpChannel final : public Channel, public std::enable_shared_from_this<HttpChannel> {
 public:
  // `session` stays alive as long as the exchange: a stateless (2026-07-28) request's session
  // has no other owner, and replies only hold weak references.
  using Watch = std::function<void(const std::shared_ptr<HttpResponder>&, std::function<void()>)>;
  HttpChannel(std::shared_ptr<HttpResponder> res, std::string extra_headers,
              std::shared_ptr<Session> session, Watch watch)
      : res_(std::move(res)),
        extra_(std::move(extra_headers)),
        session_(std::move(session)),
        watch_(std::move(watch)) {}
  // A 2025-11-25 session's stream is resumable: its events carry ids and are kept in `log`.
  void resumable(std::shared_ptr<EventLog> log, uint64_t stream) {
    log_ = std::move(log);
    stream_ = stream;
  }
  void send(std::string_view message, bool final, bool refused) override {
    if (done_) return;
    if (!streaming_ && final) {
      done_ = true;
      res_->send(refused ? 400 : 200, kJson, extra_, message);
      return;
    }
    if (!streaming_) {
      streaming_ = true;
      extra_ += "Cache-Control: no-cache\r\n";
      res_->start(200, kEventStream, extra_);
      // A priming event (SEP-1699): the client can resume even before a message arrived.
      if (log_) res_->write("id: " + std::to_string(stream_) + "-0\ndata: \n\n");
    }
    std::string event = "event: message\n";
    if (log_) event += "id: " + log_->append(stream_, message) + "\n";
    event += "data: ";
    event.append(message);
    event.append("\n\n");
    if (final) done_ = true;
    if (!res_->alive()) return;  // detached: kept for the client's resume
    res_->write(event);
    if (final) res_->end();
  }
  void send_not_found(std::string_view message) override {
    if (done_) return;
    if (streaming_) return send(message, true, false);
    done_ = true;
    res_->send(404, kJson, extra_, message);
  }
  // A client that leaves before the answer cancels the request (its answer could not arrive),
  // unless we closed the stream for it to resume (close_stream).
  void pending(std::function<void()> cancel) override {
    auto guarded = [weak = weak_from_this(), cancel] {
      auto self = weak.lock();
      if (!self || !self->detached_) cancel();
    };
    res_->on_done(guarded);  // the connection closed
    // The client half-closed and left: told by the engine when it can (HTTP/1.1), else seen
    // by the transport's sweep of watched exchanges (client_gone(), once a second).
    if (!res_->on_hangup(guarded) && watch_) watch_(res_, guarded);
  }
  // SEP-1699: ends the HTTP response of a streaming exchange without ending the exchange; the
  // client resumes with GET and Last-Event-ID. Only resumable streams can.
  void close_stream() override {
    if (!log_ || done_ || !streaming_ || !res_->alive()) return;
    detached_ = true;
    res_->end();
  }
  // Continues the exchange on `res` (a GET with Last-Event-ID naming this stream).
  void resume(std::shared_ptr<HttpResponder> res) {
    res_ = std::move(res);
    detached_ = false;
  }
  const HeaderLookup* headers() const override { return headers_; }
  void set_headers(const HeaderLookup* headers) { headers_ = headers; }
  bool done() const { return done_; }
  // The keep-alive comment, on a response that is an open SSE stream.
  void ping() {
    if (streaming_ && open()) res_->write(kPingComment);
  }
  // The client is still reading this exchange's response (an idle session has none).
  bool open() const { return !done_ && !detached_ && res_->alive() && !res_->client_gone(); }
  void accepted() {  // a notification or response: 202 with no body
    done_ = true;
    res_->send(202, {}, extra_, {});
  }

 private:
  std::shared_ptr<HttpResponder> res_;
  std::string extra_;
  std::shared_ptr<Session> session_;
  Watch watch_;
  const HeaderLookup* headers_ = nullptr;
  std::shared_ptr<EventLog> log_;
  uint64_t stream_ = 0;
  bool streaming_ = false, done_ = false, detached_ = false;
};

// The session's GET stream: messages no request asked for (list_changed, resource updates),
// as SSE events (transports.mdx "Listening for Messages from the Server").
class StreamChannel final : public Channel {
 public:
  StreamChannel(std::shared_ptr<HttpResponder> res, std::shared_ptr<EventLog> log)
      : res_(std::move(res)), log_(std::move(log)) {}
  void send(std::string_view message, bool, bool) override {
    // Logged even while no GET stream is open: the client's next GET resumes from its id.
    std::string event = "event: message\nid: " + log_->append(0, message) + "\ndata: ";
    event.append(message);
    event.append("\n\n");
    if (res_ && res_->alive()) res_->write(event);
  }

 private:
  std::shared_ptr<HttpResponder> res_;  // null until the session's first GET
  std::shared_ptr<EventLog> log_;
};

// The engine's side of an exchange: a detached response.
class EngineResponder final : public HttpResponder {
 public:
  explicit EngineResponder(http::ResponseHandle handle) : handle_(std::move(handle)) {}
  void send(int status, std::string_view ctype, std::string_view headers,
            std::string_view body) override {
    handle_.send(http::ResponseHead{status, ctype, headers}, body);
  }
  void start(int status, std::string_view ctype, std::string_view headers) override {
    handle_.start(http::ResponseHead{status, ctype, headers});
  }
  void write(std::string_view chunk) override { handle_.write(chunk); }
  void end() override { handle_.end(); }
  bool alive() const override { return handle_.alive(); }
  void on_done(std::function<void()> fn) override { handle_.on_done(std::move(fn)); }
  bool on_hangup(std::function<void()> fn) override { return handle_.on_hangup(std::move(fn)); }
  bool client_gone() const override { return handle_.client_gone(); }

 private:
  http::ResponseHandle handle_;
};

// The "sub" claim of verified claims (empty when absent), to bind sessions to their subject.
std::string subject_of(Parser& p, const std::string& claims) {
  if (claims.empty()) return {};
  std::string_view sub;
  return p.string_member(claims, "sub", sub) ? std::string(sub) : std::string();
}

bool mentions(std::string_view header, std::string_view token) {
  return header.find(token) != std::string_view::npos;
}

}  // namespace

HttpTransport::HttpTransport(ServerCore& core, HttpOptions options)
    : core_(core), options_(std::move(options)) {
  guard_.allowed_origins = options_.allowed_origins;
  guard_.allowed_hosts = options_.allowed_hosts;
  guard_.loopback_only = is_loopback_host(options_.host) || options_.host == "::1";
  // The sweep ticks every quarter of the idle timeout, at least once a second (and at most
  // every 10 ms), so a short timeout is honoured too.
  using std::chrono::milliseconds;
  const milliseconds timeout = options_.session_idle_timeout;
  sweep_period_ = timeout.count() > 0
                      ? std::clamp(timeout / 4, milliseconds(10), milliseconds(1000))
                      : milliseconds(1000);
  const milliseconds ping = options_.sse_ping_interval;
  if (ping.count() > 0)
    sweep_period_ = std::min<Duration>(sweep_period_,
                                       std::clamp(ping / 4, milliseconds(10), milliseconds(1000)));
}

HttpTransport::HttpTransport(EventLoop& loop, ServerCore& core, HttpOptions options,
                             Listener listener)
    : HttpTransport(core, std::move(options)) {
  if (listener == Listener::kOwn) listen_on(loop);
  loop_ = &loop;
  next_ping_ = loop.now() + options_.sse_ping_interval;
  sweep_timer_ = loop.call_later(sweep_period_, [this] { sweep(); });
}

void HttpTransport::listen_on(EventLoop& loop) {
  http::ServerConfig cfg;
  cfg.host = options_.host;
  cfg.port = options_.port;
  cfg.limits.max_body_bytes = kMaxMessageBytes;  // 413 past one message's limit
  server_ = std::make_unique<http::Server>(loop, cfg);
  auto handler = [this](http::Request& req, http::Response& res) { serve(req, res); };
  server_->route("POST", options_.path, handler);
  server_->route("GET", options_.path, handler);
  server_->route("DELETE", options_.path, handler);
  if (options_.auth) {
    // RFC 9728 §3.1: at the path-suffixed well-known URL, and at the bare one for clients that
    // try it first (2025-11-25 authorization.mdx "Protected Resource Metadata Discovery").
    auto metadata = [this](http::Request&, http::Response& res) {
      serve_metadata(*std::make_shared<EngineResponder>(res.detach()));
    };
    server_->route("GET", options_.auth->metadata_path, metadata);
    if (options_.auth->metadata_path != "/.well-known/oauth-protected-resource")
      server_->route("GET", "/.well-known/oauth-protected-resource", metadata);
  }
}

void HttpTransport::sweep() {
  sweep_gone_clients();
  if (options_.sse_ping_interval.count() > 0 && loop_->now() >= next_ping_) {
    next_ping_ = loop_->now() + options_.sse_ping_interval;
    ping_streams();
  }
  if (options_.session_idle_timeout.count() > 0 && loop_->now() >= next_expiry_)
    expire_idle(loop_->now());
  sweep_timer_ = loop_->call_later(sweep_period_, [this] { sweep(); });
}

size_t HttpTransport::expire_idle(TimePoint now) {
  const Duration timeout = options_.session_idle_timeout;
  if (timeout.count() <= 0) return 0;
  // A whole scan at most every eighth of the timeout and at least every 30 s (ticks come every
  // quarter of it, at least once a second): an idle session goes at most timeout / 4 (and 30 s)
  // late, and a server with many sessions is not scanned on every tick.
  next_expiry_ = now + std::min<Duration>(timeout / 8, std::chrono::seconds(30));
  std::vector<std::string> idle;
  for (auto& [id, entry] : sessions_) {
    // transports.mdx: the server MAY terminate a session at any time; one a client is still
    // reading from (its GET stream, a POST's response) is in use however old its last request.
    // A stream whose client closed its side is not: nothing reaches it any more.
    bool busy = entry.stream && entry.stream->alive() && !entry.stream->client_gone();
    std::erase_if(entry.streams, [&](const auto& kv) {
      auto channel = kv.second.lock();
      if (!channel) return true;
      busy = busy || static_cast<const HttpChannel&>(*channel).open();
      return false;
    });
    if (busy)
      entry.last_active = now;
    else if (now - entry.last_active >= timeout)
      idle.push_back(id);
  }
  for (const auto& id : idle)
    if (auto it = sessions_.find(id); it != sessions_.end()) end(it);
  return idle.size();
}

void HttpTransport::end(std::unordered_map<std::string, Entry>::iterator it) {
  // Forgotten first: its id answers 404 from here on, whatever end_session does.
  Entry entry = std::move(it->second);
  sessions_.erase(it);
  core_.end_session(*entry.session);
  if (entry.stream && entry.stream->alive()) entry.stream->end();
}

void HttpTransport::ping_streams() {
  for (auto& [id, entry] : sessions_) {
    if (entry.stream && entry.stream->alive() && !entry.stream->client_gone())
      entry.stream->write(kPingComment);
    for (auto& [number, weak] : entry.streams)
      if (auto channel = weak.lock()) static_cast<HttpChannel&>(*channel).ping();
  }
}

void HttpTransport::sweep_gone_clients() {
  std::vector<std::function<void()>> cancels;
  std::erase_if(watched_, [&](Watched& w) {
    auto res = w.res.lock();
    if (!res || !res->alive()) return true;
    if (!res->client_gone()) return false;
    cancels.push_back(std::move(w.cancel));
    return true;
  });
  for (auto& cancel : cancels) cancel();
}

HttpTransport::~HttpTransport() {
  if (loop_ && sweep_timer_) loop_->cancel(sweep_timer_);
  for (auto& [id, entry] : sessions_) core_.end_session(*entry.session);
  if (server_) server_->close();
}

uint16_t HttpTransport::listen() {
  if (!server_) throw std::logic_error("HttpTransport::listen: this transport has no listener");
  return server_->listen();
}

void HttpTransport::refuse(HttpResponder& res, int status, std::string_view message) {
  std::string body;
  encode_error(body, {}, kInvalidRequest, message);
  res.send(status, kJson, {}, body);
}

void HttpTransport::serve_metadata(HttpResponder& res) const {
  if (!options_.auth) return res.send(404, kJson, {}, "{}");
  res.send(200, kJson, "Cache-Control: max-age=3600\r\n", options_.auth->metadata_json);
}

namespace {

// The headers every request is checked for, picked out of the engine's head in one pass: a
// lookup is otherwise a scan of all headers, and a POST asks for some of them several times.
// Other names (Mcp-Method, Mcp-Name, Mcp-Param-*, Last-Event-ID) are looked up in the head.
class KnownHeaders {
 public:
  // A header name as sent (a validated token: no CR, no controls) against a known one of
  // lower-case letters and '-': OR-ing 0x20 lower-cases a letter and leaves '-' as it is, so
  // eight bytes are compared at a time (the last word overlaps the one before).
  static bool token_iequals(std::string_view name, std::string_view known) {
    const size_t n = known.size();  // >= 4, as every known name
    if (name.size() != n) return false;
    auto word = [](const char* p, size_t len) {
      uint64_t w = 0;
      std::memcpy(&w, p, len);
      return w;
    };
    const size_t step = n < 8 ? n : 8;
    const uint64_t lower = n < 8 ? 0x20202020202020ull >> (8 * (7 - n)) : 0x2020202020202020ull;
    for (size_t i = 0;; i += step) {
      if (i + step > n) i = n - step;
      if ((word(name.data() + i, step) | lower) != word(known.data() + i, step)) return false;
      if (i + step == n) return true;
    }
  }

  explicit KnownHeaders(const http::RequestHead& head) : head_(head) {
    for (size_t i = 0; i < head.num_headers; ++i) {
      const http::Header& h = head.headers[i];
      int slot = slot_of(h.name, false);
      if (slot >= 0 && !(found_ & (1u << slot))) {  // the first one, as RequestHead::header
        found_ |= 1u << slot;
        values_[slot] = h.value;
      }
    }
  }
  // `name` is lower-case (HttpRequestView::header): compared exactly; any other name is looked
  // up in the head.
  std::string_view operator()(std::string_view name) const {
    int slot = slot_of(name, true);
    return slot >= 0 ? values_[slot] : head_.header(name);
  }

 private:
  // The slot of a header name, -1 for none: the length and one letter pick the candidate, one
  // compare confirms it (exact for our lower-case lookups, any case for names as sent).
  static int slot_of(std::string_view name, bool lower) {
    auto is = [&](std::string_view known, int slot) {
      return (lower ? name == known : token_iequals(name, known)) ? slot : -1;
    };
    switch (name.size()) {
      case 4:
        return is("host", 0);
      case 6:
        return (name[0] | 0x20) == 'o' ? is("origin", 1) : is("accept", 2);
      case 12:
        return is("content-type", 3);
      case 13:
        return is("authorization", 4);
      case 14:
        return is("mcp-session-id", 5);
      case 20:
        return is("mcp-protocol-version", 6);
      default:
        return -1;
    }
  }
  const http::RequestHead& head_;
  std::string_view values_[7];
  unsigned found_ = 0;
};

}  // namespace

void HttpTransport::serve(http::Request& req, http::Response& res) {
  KnownHeaders known(req.head);
  HttpRequestView view{req.method(), req.body,
                       [&known](std::string_view name) { return known(name); }};
  serve(view, std::make_shared<EngineResponder>(res.detach()));
}

void HttpTransport::serve(const HttpRequestView& req, std::shared_ptr<HttpResponder> res) {
  if (!guard_.host_ok(req.header("host"))) return refuse(*res, 421, "Invalid Host header");
  if (!guard_.origin_ok(req.header("origin"))) return refuse(*res, 403, "Invalid Origin header");
  std::string claims;
  if (options_.auth) {
    // basic/authorization.mdx: every request carries the token, verified before anything else.
    HttpAuth::Refusal refusal;
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    if (!options_.auth->check(req.header("authorization"), now.count(), claims, refusal))
      return res->send(refusal.status, kJson, refusal.headers, refusal.body);
  }
  claims_ = std::move(claims);
  // Without a loop there is no sweep timer: idle sessions are looked for before serving.
  if (!loop_ && options_.session_idle_timeout.count() > 0) {
    TimePoint t = Clock::now();
    if (t >= next_expiry_) expire_idle(t);
  }
  // transports.mdx "Protocol Version Header": an unsupported version is a 400.
  // A session-less POST may be a 2026-07-28 request: the core answers its version with -32022
  // and the versions it speaks (basic/versioning.mdx), keeping the request's id.
  std::string_view version = req.header("mcp-protocol-version");
  const bool stateless_post = req.method == "POST" && req.header("mcp-session-id").empty();
  if (!version.empty() && !is_known_version(version) && !stateless_post)
    return refuse(*res, 400, "Bad Request: Unsupported protocol version");
  std::string_view method = req.method;
  if (method == "POST") return post(req, res);
  if (method == "GET") return get(req, res);
  return remove(req, res);
}

HttpTransport::Entry* HttpTransport::session_of(const HttpRequestView& req, const Res& res) {
  std::string_view id = req.header("mcp-session-id");
  if (id.empty()) {
    refuse(*res, 400, "Bad Request: Missing Mcp-Session-Id header");
    return nullptr;
  }
  auto it = sessions_.find(std::string(id));
  // With authorization a session belongs to the subject that opened it: another token's holder
  // is told it does not exist (basic/security_best_practices.mdx "Session Hijacking").
  if (it == sessions_.end() ||
      (options_.auth && it->second.session->auth_subject != subject_of(peek_, claims_))) {
    refuse(*res, 404, "Session not found");
    return nullptr;
  }
  it->second.session->auth_claims = claims_;
  it->second.last_active = now();
  return &it->second;
}

void HttpTransport::post(const HttpRequestView& req, const Res& res) {
  std::string_view ctype = req.header("content-type");
  if (!mentions(ctype, "application/json"))
    return refuse(*res, 415, "Unsupported Media Type: use application/json");
  std::string_view accept = req.header("accept");
  if (!accept.empty() && !mentions(accept, "application/json") && !mentions(accept, kEventStream) &&
      !mentions(accept, "*/*"))
    return refuse(*res, 406, "Not Acceptable: accept application/json and text/event-stream");

  std::shared_ptr<Session> session;
  std::string extra;
  Entry* resumable = nullptr;
  if (!req.header("mcp-session-id").empty()) {
    Entry* entry = session_of(req, res);
    if (!entry) return;
    session = entry->session;
    resumable = entry;
  } else {
    // Without a session only initialize is served; it creates one (lifecycle.mdx).
    Message msg;
    ParseFailure failure;
    bool ok = peek_.parse(req.body, msg, failure);
    if (ok && msg.kind == MessageKind::kRequest && msg.method == "initialize") {
      // Like the official SDK: a full server refuses newcomers; room frees up as sessions end
      // or expire (session_idle_timeout).
      if (options_.max_sessions && sessions_.size() >= options_.max_sessions)
        return refuse(*res, 503, "Too many open sessions");
      std::string id = random_hex_id();
      session = std::make_shared<Session>();
      session->auth_claims = claims_;
      session->auth_subject = subject_of(peek_, claims_);
      auto log = std::make_shared<EventLog>();
      log->open_stream();  // stream 0: the GET stream
      // Messages for the GET stream are logged from the start, so the first GET can replay them.
      session->notifier = std::make_shared<StreamChannel>(nullptr, log);
      sessions_.emplace(id, Entry{session, {}, std::move(log), {}, now()});
      extra = "Mcp-Session-Id: " + id + "\r\n";
    } else if (!ok || msg.known.has_meta_version ||
               req.header("mcp-protocol-version") == kModernVersion ||
               (!req.header("mcp-protocol-version").empty() &&
                !is_known_version(req.header("mcp-protocol-version")))) {
      // 2026-07-28 is stateless: each request stands alone (no Mcp-Session-Id). A message we
      // cannot read gets its error the same way.
      session = std::make_shared<Session>();
      session->stateless = true;
      session->auth_claims = claims_;
    } else {
      return refuse(*res, 400, "Bad Request: Missing Mcp-Session-Id header");
    }
  }
  // Without a loop nothing sweeps the watch list: a responder there reports a hang-up through
  // on_done (a mounted exchange's sink.hang_up()).
  HttpChannel::Watch watch;
  if (loop_)
    watch = [this](const std::shared_ptr<HttpResponder>& r, std::function<void()> cancel) {
      watched_.push_back(Watched{r, std::move(cancel)});
    };
  auto channel = std::make_shared<HttpChannel>(res, std::move(extra), session, std::move(watch));
  if (resumable) {
    uint64_t stream = resumable->log->open_stream();
    channel->resumable(resumable->log, stream);
    std::erase_if(resumable->streams, [](const auto& kv) { return kv.second.expired(); });
    resumable->streams.emplace(stream, channel);
  }
  channel->set_headers(&req.header);  // only while handle() runs: `req` is borrowed
  Outcome outcome = core_.handle(session, req.body, channel);
  channel->set_headers(nullptr);
  if (outcome == Outcome::kNoReply && !channel->done()) channel->accepted();
}

void HttpTransport::get(const HttpRequestView& req, const Res& res) {
  if (!mentions(req.header("accept"), kEventStream))
    return refuse(*res, 406, "Not Acceptable: accept text/event-stream");
  Entry* entry = session_of(req, res);
  if (!entry) return;
  // transports.mdx "Resumability and Redelivery": replay what followed Last-Event-ID on the
  // stream it names, then go on with that stream.
  std::string_view last = req.header("last-event-id");
  auto stream = EventLog::stream_of(last);
  if (stream && *stream != 0) {
    auto it = entry->streams.find(*stream);
    auto channel = it == entry->streams.end() ? nullptr : it->second.lock();
    res->start(200, kEventStream, "Cache-Control: no-cache\r\n");
    bool done = true;
    entry->log->replay(last, [&](std::string_view id, std::string_view message) {
      std::string event = "event: message\nid: ";
      event += id;
      event += "\ndata: ";
      event += message;
      event += "\n\n";
      res->write(event);
    });
    if (channel) {
      auto http = std::static_pointer_cast<HttpChannel>(channel);
      done = http->done();
      if (!done) http->resume(res);
    }
    if (done) res->end();
    return;
  }
  if (entry->stream && entry->stream->alive())
    return refuse(*res, 409, "Conflict: the session's stream is already open");
  // The stream stays open for server-initiated messages until DELETE or the client leaves.
  entry->stream = res;
  res->start(200, kEventStream, "Cache-Control: no-cache\r\n");
  res->write(": stream open\n\n");
  if (stream) {
    entry->log->replay(last, [&](std::string_view id, std::string_view message) {
      std::string event = "event: message\nid: ";
      event += id;
      event += "\ndata: ";
      event += message;
      event += "\n\n";
      res->write(event);
    });
  }
  entry->session->notifier = std::make_shared<StreamChannel>(res, entry->log);
}

void HttpTransport::remove(const HttpRequestView& req, const Res& res) {
  if (!session_of(req, res)) return;
  end(sessions_.find(std::string(req.header("mcp-session-id"))));
  res->send(200, {}, {}, {});
}

}  // namespace fa::mcp
