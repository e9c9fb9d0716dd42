// ProxyCore: forwarding, fan-out listings, breakers, rate limit.
#include "mcp/proxy/proxy_core.h"
#include "mcp/proxy/entry.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <stdexcept>

#include "core/log.h"
#include "core/when_all.h"
#include "mcp/proxy/names.h"

namespace fa::mcp::proxy {

namespace {

// A call that never reached an answer (timeout, connection closed): what retry and the
// breaker count. Timeouts are not retried (the upstream may still be working on it).
struct transport_failure : std::runtime_error {
  transport_failure(const std::string& what, bool timeout)
      : std::runtime_error(what), timeout(timeout) {}
  bool timeout;
};

int64_t to_ms(Duration d) {
  return std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// True when a result is a 2026-07-28 InputRequiredResult (basic/patterns/mrtr.mdx).
bool input_required(std::string_view result) {
  if (result.find("input_required") == std::string_view::npos) return false;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view type;
  return !parser.parse(result.data(), result.size()).get(doc) &&
         !doc["resultType"].get_string().get(type) && type == "input_required";
}

// The forwarded method as a string literal (what outlives the request's text).
std::string_view forwarded_method(std::string_view m) {
  for (std::string_view known : {"tools/call", "prompts/get", "resources/read"})
    if (m == known) return known;
  return "completion/complete";
}

std::string json_quoted(std::string_view s) {
  std::string out;
  append_string(out, s);
  return out;
}

}  // namespace

ProxyCore::ProxyCore(EventLoop& loop, ServerInfo info, ProxyOptions options)
    : ServerCore(*this, std::move(info)),
      loop_(loop),
      options_(std::move(options)),
      limiter_(options_.rate_limit) {
  set_completions(true);  // completion/complete is forwarded to the upstream its ref names
  if (!options_.list_retry.retry_if) {
    options_.list_retry.retry_if = [](const std::exception_ptr& e) {
      try {
        std::rethrow_exception(e);
      } catch (const transport_failure& f) {
        return !f.timeout;
      } catch (...) {
        return false;
      }
    };
  }
}

ProxyCore::~ProxyCore() {
  *alive_ = false;
  close();
}

void ProxyCore::add_upstream(const std::string& name, Factory factory) {
  if (!valid_upstream_name(name))
    throw std::invalid_argument(
        "upstream name '" + name +
        "': use lower-case letters, digits and '-', starting with a letter");
  if (find(name)) throw std::invalid_argument("upstream '" + name + "' is configured twice");
  auto e = std::make_shared<Entry>();
  e->name = name;
  e->factory = std::move(factory);
  e->breaker = CircuitBreaker(options_.breaker);
  entries_.push_back(std::move(e));
}

ProxyCore::Entry* ProxyCore::find(std::string_view name) {
  for (auto& e : entries_)
    if (e->name == name) return e.get();
  return nullptr;
}

future<> ProxyCore::start() {
  std::vector<future<>> starts;
  for (auto& e : entries_) starts.push_back(ensure_started(e));
  return when_all(std::move(starts))
      .then([this, alive = std::weak_ptr<bool>(alive_)](std::vector<future<>> done) {
        if (!alive.lock()) return;
        for (size_t i = 0; i < done.size(); ++i) {
          if (!done[i].failed()) continue;
          try {
            std::rethrow_exception(done[i].get_exception());
          } catch (const std::exception& ex) {
            FA_LOG(::fa::LogLevel::kWarning, "mcp proxy: upstream '%s' did not start: %s",
                   entries_[i]->name.c_str(), ex.what());
          }
        }
      });
}

future<> ProxyCore::ensure_started(const std::shared_ptr<Entry>& e) {
  std::weak_ptr<bool> alive = alive_;
  if (e->upstream && e->started && e->upstream->alive()) return make_ready_future<>();
  promise<> waiter;
  future<> ready = waiter.get_future();
  e->waiters.push_back(std::move(waiter));
  if (e->start_pending) return ready;
  e->start_pending = true;
  e->started = false;
  if (e->upstream) e->upstream->close();
  try {
    e->upstream = e->factory();
    Entry* raw = e.get();
    e->upstream->on_notification(
        [this, alive, raw](std::string_view method, std::string_view params) {
          if (alive.lock()) on_upstream_notification(*raw, method, params);
        });
    e->upstream->on_request(
        [this, alive, raw](std::string_view id, std::string_view method, std::string_view params) {
          if (alive.lock()) relay_request(raw, raw->upstream.get(), id, method, params);
        });
  } catch (...) {
    e->upstream.reset();
    auto err = std::current_exception();
    e->start_pending = false;
    auto waiters = std::move(e->waiters);
    e->waiters.clear();
    for (auto& w : waiters) w.set_exception(err);
    return ready;
  }
  (void)e->upstream->start().then_wrapped([this, e, alive](future<>&& f) {
    if (!alive.lock()) return;
    e->start_pending = false;
    std::exception_ptr err;
    if (f.failed()) err = f.get_exception();
    e->started = !err;
    // A new connection has been told nothing: the subscriptions and the log level clients
    // want go to it now (a 2026-07-28 upstream: its subscriptions/listen).
    e->listen_id = 0;
    e->listening.clear();
    e->told.clear();
    e->level_sent = -1;
    if (e->started) {
      sync_subscriptions(*e);
      if (LogLevel level; wanted_level(level)) sync_level(*e, level);
    }
    auto waiters = std::move(e->waiters);
    e->waiters.clear();
    for (auto& w : waiters) {
      if (err)
        w.set_exception(err);
      else
        w.set_value();
    }
  });
  return ready;
}

void ProxyCore::close() {
  for (auto& e : entries_) {
    if (e->sweep) loop_.cancel(e->sweep);
    e->sweep = 0;
    e->deadlines.clear();
  }
  for (auto& e : entries_)
    if (e->upstream) e->upstream->close();
  for (auto& [state, flight] : parked_) loop_.cancel(flight->expiry);
  parked_.clear();
  calls_.clear();
  progress_.clear();
}

bool ProxyCore::closed() const {
  for (auto& e : entries_)
    if (e->upstream && !e->upstream->finished()) return false;
  return true;
}

future<client::Response> ProxyCore::call_upstream(const std::shared_ptr<Entry>& e,
                                                  const client::Request& request,
                                                  const std::shared_ptr<InFlight>& flight) {
  if (e->upstream && e->started && e->upstream->alive()) {
    // The usual case: sent now, from the caller's views (no copies for a later send).
    uint64_t id = 0;
    future<client::Response> answer = e->upstream->call(request, &id);
    if (flight) {
      flight->upstream_id = id;
      watch(e, flight->call_id, id);
    }
    return answer;
  }
  auto send = [this, e, flight, method = std::string(request.method),
               members = std::string(request.members), meta = std::string(request.meta_members),
               name = std::string(request.name), caps = std::string(request.client_capabilities),
               timeout = request.timeout]() {
    client::Request r{method, members, meta, name};
    r.client_capabilities = caps;
    r.timeout = timeout;
    uint64_t id = 0;
    future<client::Response> answer = e->upstream->call(r, &id);
    if (flight) {
      flight->upstream_id = id;
      watch(e, flight->call_id, id);
    }
    return answer;
  };
  return ensure_started(e).then_wrapped(
      [e, send](future<>&& f) mutable -> future<client::Response> {
        if (!f.failed()) return send();
        client::Response r;
        r.local = true;
        r.code = kUpstreamUnavailable;
        try {
          std::rethrow_exception(f.get_exception());
        } catch (const std::exception& ex) {
          r.message = "Upstream '" + e->name + "' is unavailable: " + ex.what();
        }
        return make_ready_future<client::Response>(std::move(r));
      });
}

void ProxyCore::watch(const std::shared_ptr<Entry>& e, uint64_t call_id, uint64_t upstream_id) {
  const std::chrono::milliseconds timeout = e->upstream->options().timeout;
  if (timeout.count() <= 0) return;  // waits forever, as the upstream's options say
  e->deadlines.push_back(Entry::Deadline{loop_.now() + timeout, call_id, upstream_id});
  if (!e->sweep) arm_sweep(e);
}

void ProxyCore::arm_sweep(const std::shared_ptr<Entry>& e) {
  e->sweep = loop_.call_at(e->deadlines.front().when, [this, alive = std::weak_ptr<bool>(alive_),
                                                       weak = std::weak_ptr<Entry>(e)] {
    auto entry = weak.lock();
    if (!alive.lock() || !entry) return;
    entry->sweep = 0;
    sweep(entry);
  });
}

void ProxyCore::sweep(const std::shared_ptr<Entry>& e) {
  const TimePoint now = loop_.update_now();
  while (!e->deadlines.empty()) {
    auto [when, call_id, upstream_id] = e->deadlines.front();
    auto it = calls_.find(call_id);
    if (it != calls_.end() && when > now) break;
    e->deadlines.pop_front();
    if (it == calls_.end()) continue;  // answered or cancelled meanwhile
    std::shared_ptr<InFlight> flight = it->second;
    // As a request timeout: the call fails with kRequestTimeout (its continuation answers the
    // client) and the upstream is told (notifications/cancelled).
    if (flight->entry == e && e->upstream && flight->upstream_id &&
        flight->upstream_id == upstream_id)
      e->upstream->cancel(flight->upstream_id, "Request timed out");
  }
  if (!e->deadlines.empty() && !e->sweep) arm_sweep(e);
}

void ProxyCore::forget_answered(Entry& e) {
  // Sequential calls finish in send order: the answered one is at the front, dropped at once,
  // so the list holds only what is in flight and the sweep timer rarely re-arms.
  while (!e.deadlines.empty() && !calls_.contains(e.deadlines.front().call_id))
    e.deadlines.pop_front();
}

Outcome ProxyCore::refuse(const Message& msg, const std::shared_ptr<Channel>& channel, int code,
                          std::string_view message, std::string_view data) {
  out_.clear();
  encode_error(out_, msg.id, code, message, data);
  channel->send(out_, true, false);
  return Outcome::kAnswered;
}

Reply ProxyCore::make_reply(const std::shared_ptr<Session>& session, const Message& msg,
                            const std::shared_ptr<Channel>& channel, bool cacheable,
                            uint64_t& call_id) {
  call_id = next_call_id_++;
  std::string id(msg.id);
  session->in_flight[id] = call_id;
  ReplyStyle style;
  style.modern = msg.known.has_meta_version;
  style.cacheable = style.modern && cacheable;
  style.has_log_level =
      msg.known.has_meta_log_level && parse_log_level(msg.known.meta_log_level, style.log_level);
  return Reply(session, channel, std::move(id), std::string(msg.known.progress_token), call_id,
               style);
}

Outcome ProxyCore::handle(const std::shared_ptr<Session>& session, std::string_view text,
                          const std::shared_ptr<Channel>& channel) {
  Message msg;
  ParseFailure failure;
  if (!parser_.parse(text, msg, failure) || msg.kind != MessageKind::kRequest) {
    // A 2025-11-25 session that may be sent what upstreams log outside any call (relay_log()).
    if (msg.kind == MessageKind::kNotification && msg.method == "notifications/initialized" &&
        std::none_of(legacy_sessions_.begin(), legacy_sessions_.end(),
                     [&](const std::weak_ptr<Session>& w) { return w.lock() == session; }))
      legacy_sessions_.push_back(session);
    return ServerCore::handle(session, text, channel);
  }
  if (options_.limit_in_core && limiter_.enabled()) {
    Duration wait;
    if (!limiter_.take("stdio", loop_.update_now(), wait)) {
      int64_t ms = to_ms(wait);
      return refuse(msg, channel, kRateLimited,
                    "Rate limit exceeded; retry in " + std::to_string(ms) + " ms",
                    R"({"retryAfterMs":)" + std::to_string(ms) + "}");
    }
  }
  // An unknown _meta protocol version is answered by the core (-32022).
  if (msg.known.has_meta_version && msg.known.meta_version != kModernVersion)
    return ServerCore::handle(session, text, channel);
  const std::string_view m = msg.method;
  const KnownParams& k = msg.known;
  if (m == "tools/call" || m == "prompts/get") {
    const bool tool = m == "tools/call";
    if (!k.has_name)
      return refuse(msg, channel, kInvalidParams, "Invalid params: name must be a string");
    std::string_view up, inner;
    if (!split_name(k.name, up, inner) || !find(up))
      return refuse(
          msg, channel, kInvalidParams,
          std::string(tool ? "Unknown tool: " : "Unknown prompt: ") + std::string(k.name));
    std::string_view args = k.arguments == "null" ? std::string_view() : k.arguments;
    if (!args.empty() && args.front() != '{')
      return refuse(msg, channel, kInvalidParams, "Invalid params: arguments must be an object");
    std::string members;  // built in place: one allocation
    members.reserve(32 + inner.size() + args.size());
    members += R"("name":)";
    append_string(members, inner);
    if (!args.empty()) {
      members += R"(,"arguments":)";
      members += args;
    }
    if (Outcome o; retry_of(session, msg, channel, members, false, o)) return o;
    return forward(session, msg, channel, up, std::move(members), std::string(inner), false);
  }
  if (m == "resources/read") {
    if (!k.has_uri)
      return refuse(msg, channel, kInvalidParams, "Invalid params: uri must be a string");
    std::string_view up, inner;
    if (!split_uri(k.uri, up, inner) || !find(up))
      return refuse(msg, channel, msg.known.has_meta_version ? kInvalidParams : kResourceNotFound,
                    "Resource not found", R"({"uri":)" + json_quoted(k.uri) + "}");
    std::string members = R"("uri":)" + json_quoted(inner);
    if (Outcome o; retry_of(session, msg, channel, members, true, o)) return o;
    return forward(session, msg, channel, up, std::move(members), std::string(inner), true);
  }
  if (m == "completion/complete") {
    std::string up, members;
    if (msg.params.empty() || !unqualify_completion(std::string(msg.params), up, members) ||
        !find(up))
      return refuse(msg, channel, kInvalidParams,
                    "Invalid params: ref names no upstream prompt or resource");
    return forward(session, msg, channel, up, std::move(members), {}, false);
  }
  if (!k.has_meta_version) {
    // 2025-11-25 sessions: recorded per session here, answered by the core below. The
    // upstream the URI names is subscribed while some client wants it (forward_upstream.cpp),
    // and its resources/updated come back; the level goes to every 2025-11-25 upstream.
    if ((m == "resources/subscribe" || m == "resources/unsubscribe") && k.has_uri) {
      Interest& in = interest_of(session);
      auto it = std::find(in.uris.begin(), in.uris.end(), k.uri);
      if (m == "resources/subscribe" && it == in.uris.end()) {
        in.uris.emplace_back(k.uri);
        acquire(k.uri);
      } else if (m == "resources/unsubscribe" && it != in.uris.end()) {
        in.uris.erase(it);
        release(k.uri);
      }
    } else if (LogLevel level;
               m == "logging/setLevel" && k.has_level && parse_log_level(k.level, level)) {
      Interest& in = interest_of(session);
      in.has_level = true;
      in.level = level;
      sync_levels();
    }
  } else if (m == "subscriptions/listen" &&
             msg.params.find("resourceSubscriptions") != std::string_view::npos) {
    // A 2026-07-28 client subscribes on its subscriptions/listen stream (served by the core):
    // its URIs count while the stream is open. The core keeps the channel as long as the
    // listen lasts (the client cancels it, its stream or session ends), so the channel's end
    // is the subscriptions' end (ListenChannel).
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array items;
    std::vector<std::string> uris;
    if (!parser.parse(msg.params.data(), msg.params.size()).get(doc) &&
        !doc["notifications"]["resourceSubscriptions"].get_array().get(items))
      for (auto item : items)
        if (std::string_view uri;
            !item.get_string().get(uri) && std::find(uris.begin(), uris.end(), uri) == uris.end())
          uris.emplace_back(uri);
    if (!uris.empty())
      return ServerCore::handle(session, text, listen_channel(channel, std::move(uris)));
  }
  if (m == "tools/list") return list(session, msg, channel, "tools", "name", false);
  if (m == "prompts/list") return list(session, msg, channel, "prompts", "name", false);
  if (m == "resources/list") return list(session, msg, channel, "resources", "uri", true);
  if (m == "resources/templates/list")
    return list(session, msg, channel, "resourceTemplates", "uriTemplate", true);
  return ServerCore::handle(session, text, channel);
}

Outcome ProxyCore::forward(const std::shared_ptr<Session>& session, const Message& msg,
                           const std::shared_ptr<Channel>& channel, std::string_view upstream,
                           std::string members, std::string name, bool cacheable) {
  std::shared_ptr<Entry> e;
  for (auto& x : entries_)
    if (x->name == upstream) e = x;
  const TimePoint now = loop_.update_now();
  if (!e->breaker.allow(now)) {
    int64_t ms = to_ms(e->breaker.retry_in(now));
    return refuse(msg, channel, kUpstreamUnavailable,
                  "Upstream '" + e->name + "' is unavailable: circuit open, retry in " +
                      std::to_string(ms) + " ms",
                  R"({"upstream":)" + json_quoted(e->name) + R"(,"retryAfterMs":)" +
                      std::to_string(ms) + "}");
  }
  uint64_t call_id = 0;
  Reply reply = make_reply(session, msg, channel, cacheable, call_id);
  std::string meta;
  uint64_t token = 0;
  if (!msg.known.progress_token.empty()) {
    // Our own token upstream: two clients may use the same one (progress.mdx: unique per
    // request of one sender).
    token = next_token_++;
    meta = R"("progressToken":)" + std::to_string(token);
    progress_.emplace(token, reply);
  }
  if (msg.known.has_meta_log_level) {
    // 2026-07-28 server/utilities/logging.mdx: logging is request-scoped, asked for with the
    // request's _meta; the upstream's messages come back on the call (relay_notification) and
    // the reply applies the level again.
    if (!meta.empty()) meta += ',';
    meta += R"("io.modelcontextprotocol/logLevel":)";
    append_string(meta, msg.known.meta_log_level);
  } else if (!interests_.empty() && !msg.known.has_meta_version && e->upstream &&
             e->upstream->modern()) {
    // A 2025-11-25 client's logging/setLevel, as a 2026-07-28 upstream takes it: per request
    // (without the field it sends no log message at all).
    for (const Interest& in : interests_)
      if (in.has_level && !in.session.owner_before(session) && !session.owner_before(in.session)) {
        if (!meta.empty()) meta += ',';
        meta += R"("io.modelcontextprotocol/logLevel":)";
        append_string(meta, log_level_name(in.level));
        break;
      }
  }
  auto flight = std::make_shared<InFlight>();
  flight->entry = e;
  flight->reply = reply;
  flight->call_id = call_id;
  if (msg.known.has_meta_version) {  // what a retry with inputResponses must match
    flight->capabilities.assign(msg.known.meta_client_capabilities);
    flight->method.assign(msg.method);
    flight->name.assign(msg.method == "resources/read" ? msg.known.uri : msg.known.name);
  }
  calls_.emplace(call_id, flight);
  client::Request request{msg.method, members, meta, name};
  request.client_capabilities = flight->capabilities;
  request.timeout = std::chrono::milliseconds(0);  // the deadline list instead (watch())
  if (!msg.known.has_meta_version && session->client_capabilities.size() > 2)
    request.client_capabilities = legacy_capabilities(session->client_capabilities);
  (void)call_upstream(e, request, flight)
      .then([this, alive = std::weak_ptr<bool>(alive_), e, flight, token,
             method = forwarded_method(msg.method), members = std::move(members),
             name = std::move(name)](client::Response r) mutable {
        if (alive.lock()) answered(e, flight, token, std::move(r), method, members, name);
      });
  if (!reply.active()) return Outcome::kAnswered;
  channel->pending([this, alive = std::weak_ptr<bool>(alive_),
                    weak = std::weak_ptr<Session>(session), id = std::string(reply.id())] {
    if (!alive.lock()) return;
    if (auto s = weak.lock()) cancel_request(*s, id);
  });
  return Outcome::kPending;
}

void ProxyCore::end_call(Entry& e, InFlight& f, uint64_t token) {
  erase_call(f.call_id);
  forget_answered(e);
  end_rounds(f);
  if (f.rounds) forget_round(*f.rounds);
  if (token) progress_.erase(token);
}

void ProxyCore::answered(const std::shared_ptr<Entry>& e, const std::shared_ptr<InFlight>& flight,
                         uint64_t token, client::Response r, std::string_view method,
                         std::string& members, std::string& name) {
  if (r.local)
    e->breaker.failure(loop_.update_now());
  else
    e->breaker.success();
  // After input rounds, the answer goes to the client's latest retry.
  Reply& reply = flight->reply;
  if (r.ok && e->upstream && e->upstream->modern()) {
    if (input_required(r.result)) {
      // A 2026-07-28 upstream's own input round. A 2026-07-28 client gets its inputRequests
      // and requestState as they are, and they come back on its retry (handle()); a 2025-11-25
      // client is asked them as requests on its call's stream (upstream_rounds.cpp).
      if (!reply.modern()) {
        if (calls_.contains(flight->call_id) &&
            ask_client(e, flight, token, method, members, name, r.result))
          return;
        return end_call(*e, *flight, token);
      }
      end_call(*e, *flight, token);
      std::string plain = without_members(r.result, {"resultType", "ttlMs", "cacheScope"});
      reply.result(R"({"resultType":"input_required")" + std::string(plain.size() > 2 ? "," : "") +
                   plain.substr(1));
      return;
    }
    end_call(*e, *flight, token);
    reply.result(without_members(r.result, {"resultType", "ttlMs", "cacheScope"}));
    return;
  }
  end_call(*e, *flight, token);
  if (r.ok)
    reply.result(r.result);
  else if (r.local && r.code != kUpstreamUnavailable)
    reply.error(r.code, "Upstream '" + e->name + "': " + r.message, r.data);
  else
    reply.error(r.code, r.message, r.data);
}

void ProxyCore::call(const Call&, Reply reply) {
  reply.error(kMethodNotFound, "Method not found");
}

void ProxyCore::cancel(uint64_t call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  auto flight = it->second;
  calls_.erase(it);
  end_rounds(*flight);
  if (flight->rounds) {  // a 2026-07-28 upstream's round: no answer will come to erase these
    forget_round(*flight->rounds);
    if (flight->rounds->token) progress_.erase(flight->rounds->token);
  }
  // basic/utilities/cancellation.mdx: pass it on; the upstream's late answer is dropped.
  if (flight->entry->upstream && flight->upstream_id)
    flight->entry->upstream->cancel(flight->upstream_id, "Cancelled by the client");
}

void ProxyCore::on_upstream_notification(Entry& e, std::string_view method,
                                         std::string_view params) {
  if (method != "notifications/progress")
    return relay_notification(&e, e.name, e.upstream.get(), method, params);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  uint64_t token = 0;
  double progress = 0, total = -1;
  if (parser.parse(params.data(), params.size()).get(doc) ||
      doc["progressToken"].get_uint64().get(token) || doc["progress"].get_double().get(progress))
    return;
  if (doc["total"].get_double().get(total)) total = -1;
  std::string_view message;
  if (doc["message"].get_string().get(message)) message = {};
  auto it = progress_.find(token);
  if (it != progress_.end()) it->second.progress(progress, total, message);
  (void)e;
}

Outcome ProxyCore::list(const std::shared_ptr<Session>& session, const Message& msg,
                        const std::shared_ptr<Channel>& channel, std::string_view key,
                        std::string_view field, bool is_uri) {
  // The merged listing is one page (server/utilities/pagination.mdx: cursors are ours to give).
  if (msg.known.has_cursor)
    return refuse(msg, channel, kInvalidParams, "Invalid params: invalid cursor");
  uint64_t call_id = 0;
  Reply reply = make_reply(session, msg, channel, true, call_id);
  std::vector<future<std::string>> parts;
  for (auto& e : entries_)
    parts.push_back(
        list_from(e, std::string(msg.method), std::string(key), std::string(field), is_uri));
  (void)when_all(std::move(parts))
      .then([this, alive = std::weak_ptr<bool>(alive_), reply, key = std::string(key),
             method = std::string(msg.method)](std::vector<future<std::string>> done) mutable {
        if (!alive.lock()) return;
        std::string result = "{" + json_quoted(key) + ":[";
        bool any = false;
        for (size_t i = 0; i < done.size(); ++i) {
          if (done[i].failed()) {
            try {
              std::rethrow_exception(done[i].get_exception());
            } catch (const std::exception& ex) {
              FA_LOG(::fa::LogLevel::kWarning, "mcp proxy: %s left out upstream '%s': %s",
                     method.c_str(), entries_[i]->name.c_str(), ex.what());
            }
            continue;
          }
          std::string items = done[i].get();
          if (items.empty()) continue;
          if (any) result += ',';
          result += items;
          any = true;
        }
        result += "]}";
        reply.result(result);
      });
  return reply.active() ? Outcome::kPending : Outcome::kAnswered;
}

future<std::string> ProxyCore::list_from(const std::shared_ptr<Entry>& e, std::string method,
                                         std::string key, std::string field, bool is_uri) {
  const TimePoint now = loop_.update_now();
  if (!e->breaker.allow(now))
    return make_exception_future<std::string>(std::runtime_error("circuit open"));
  struct Pager {
    std::string items, cursor;
    size_t pages = 0;
  };
  auto pager = std::make_shared<Pager>();
  auto alive = std::weak_ptr<bool>(alive_);
  // One page: retried (retry) when the upstream's connection failed; timeouts are not retried.
  auto page = std::make_shared<std::function<future<std::string>()>>();
  *page = [this, e, pager, method, key, field, is_uri, alive, page]() -> future<std::string> {
    auto attempt = [this, e, pager, method]() {
      std::string members =
          pager->cursor.empty() ? std::string() : R"("cursor":)" + json_quoted(pager->cursor);
      return call_upstream(e, client::Request{method, members, {}, {}}, nullptr)
          .then([](client::Response r) -> client::Response {
            if (r.local) throw transport_failure(r.message, r.code == client::kRequestTimeout);
            return r;
          });
    };
    return retry(loop_, attempt, options_.list_retry)
        .then_wrapped([this, e, pager, key, field, is_uri, alive,
                       page](future<client::Response>&& f) -> future<std::string> {
          if (!alive.lock())
            return make_exception_future<std::string>(std::runtime_error("proxy closed"));
          if (f.failed()) {
            e->breaker.failure(loop_.update_now());
            *page = nullptr;
            return make_exception_future<std::string>(f.get_exception());
          }
          e->breaker.success();
          client::Response r = f.get();
          std::string next;
          if (!r.ok ||
              !qualify_listing(r.result, key, field, e->name, is_uri, pager->items, next)) {
            *page = nullptr;
            std::string why =
                r.ok ? "not a " + key + " listing" : std::to_string(r.code) + " " + r.message;
            return make_exception_future<std::string>(std::runtime_error(why));
          }
          if (next.empty() || ++pager->pages >= options_.max_pages) {
            *page = nullptr;  // breaks the self-reference
            return make_ready_future<std::string>(std::move(pager->items));
          }
          pager->cursor = std::move(next);
          return (*page)();
        });
  };
  return (*page)();
}

std::string ProxyCore::status_json() {
  const TimePoint now = loop_.update_now();
  std::string out = "{";
  for (auto& e : entries_) {
    if (out.size() > 1) out += ',';
    out += json_quoted(e->name);
    out += R"(:{"state":)";
    out += json_quoted(state_name(e->breaker.state(now)));
    out += R"(,"failures":)" + std::to_string(e->breaker.consecutive_failures());
    out += R"(,"alive":)";
    out += (e->upstream && e->started && e->upstream->alive()) ? "true" : "false";
    out += R"(,"era":)";
    out += json_quoted(e->upstream ? e->upstream->protocol_version() : std::string());
    out += "}";
  }
  out += "}";
  return out;
}

client::Upstream* ProxyCore::upstream_of(std::string_view name) {
  Entry* e = find(name);
  return e && e->started && e->upstream && e->upstream->alive() ? e->upstream.get() : nullptr;
}

}  // namespace fa::mcp::proxy
