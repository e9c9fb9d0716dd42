// What an upstream sends on its own, relayed to the proxy's clients (ProxyCore's
// relay_notification / relay_request / response):
//  - notifications/{tools,prompts,resources}/list_changed: the proxy's merged list changed too,
//    so it sends its own list_changed to every session that can take unsolicited messages
//    (2025-11-25 server/tools.mdx "List Changed Notification");
//  - notifications/resources/updated: with the URI as clients know it (`<upstream>+<uri>`), to
//    the sessions subscribed to it (server/resources.mdx "Subscriptions");
//  - notifications/message (server/utilities/logging.mdx): to the client whose call the
//    upstream is running, through that call's reply (the client's own log level applies);
//  - sampling/createMessage, elicitation/create, roots/list (client/*.mdx): to the client whose
//    call is in flight on that upstream (on HTTP the POST stream the request came on names the
//    call; on stdio the one call in flight), if that client declared the capability; its answer
//    goes back to the upstream under the upstream's id; a 2026-07-28 client gets them as
//    InputRequiredResult rounds instead (input_rounds.cpp). ping is answered here.
// Anything that cannot be routed is refused to the upstream (-32601), never dropped silently.
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/log.h"
#include "mcp/proxy/entry.h"
#include "mcp/proxy/names.h"
#include "mcp/proxy/proxy_core.h"
#include "mcp/session.h"

namespace fa::mcp::proxy {

namespace {

constexpr std::string_view kNotifications = "notifications/";
constexpr std::string_view kListChanged = "/list_changed";

// The raw JSON of member `key` of object `json`, empty when absent.
std::string member_raw(std::string_view json, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc, value;
  if (parser.parse(json.data(), json.size()).get(doc) || doc[key].get(value)) return {};
  return simdjson::minify(value);
}

std::string member_string(std::string_view json, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view s;
  if (parser.parse(json.data(), json.size()).get(doc) || doc[key].get_string().get(s)) return {};
  return std::string(s);
}

}  // namespace

ProxyCore::InFlight* ProxyCore::caller_of(Entry* e, client::Upstream* up) {
  const uint64_t related = up ? up->related_request() : 0;
  InFlight* only = nullptr;
  size_t count = 0;
  for (auto& [call_id, flight] : calls_) {
    if (flight->entry.get() != e) continue;
    if (related && flight->upstream_id == related) return flight.get();
    ++count;
    only = flight.get();
  }
  // Without a stream naming the call, only an unambiguous one is used.
  return related == 0 && count == 1 ? only : nullptr;
}

void ProxyCore::relay_notification(Entry* e, std::string_view name, client::Upstream* up,
                                   std::string_view method, std::string_view params) {
  if (method.starts_with(kNotifications) && method.ends_with(kListChanged)) {
    std::string_view what = method.substr(
        kNotifications.size(), method.size() - kNotifications.size() - kListChanged.size());
    if (what == "tools" || what == "prompts" || what == "resources") notify_list_changed(what);
    return;
  }
  if (method == "notifications/resources/updated") {
    std::string uri = member_string(params, "uri");
    if (!uri.empty()) notify_resource_updated(qualified_uri(name, uri));
    return;
  }
  if (method == "notifications/message") {
    InFlight* f = caller_of(e, up);
    // No call to attach it to: a log line of the upstream's own, for the clients that take
    // unsolicited messages.
    if (!f) return relay_log(params);
    LogLevel level = LogLevel::kInfo;
    (void)parse_log_level(member_string(params, "level"), level);
    std::string data = member_raw(params, "data");
    f->reply.log(level, member_string(params, "logger"), data.empty() ? "null" : data);
  }
}

void ProxyCore::relay_log(std::string_view params) {
  // 2025-11-25 server/utilities/logging.mdx: a session gets messages at or above the level it
  // set with logging/setLevel (all of them before it set one), on its channel for unsolicited
  // messages (stdout, the GET stream). 2026-07-28 clients never get these: logging is
  // request-scoped there, never on any other stream (2026-07-28 server/utilities/logging.mdx).
  LogLevel level = LogLevel::kInfo;
  if (!parse_log_level(member_string(params, "level"), level)) return;
  std::string data = member_raw(params, "data");
  std::string logger = member_string(params, "logger");
  std::string p = R"({"level":)";
  append_string(p, log_level_name(level));
  if (!logger.empty()) {
    p += R"(,"logger":)";
    append_string(p, logger);
  }
  p += R"(,"data":)";
  p += data.empty() ? std::string_view("null") : std::string_view(data);
  p += '}';
  std::string message;
  encode_notification(message, "notifications/message", p);
  std::erase_if(legacy_sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
  for (auto& weak : legacy_sessions_) {
    auto session = weak.lock();
    if (!session || !session->initialized || !session->notifier) continue;
    if (level < session->log_level) continue;
    session->notifier->send(message, false, false);
  }
}

void ProxyCore::relay_request(Entry* e, client::Upstream* up, std::string_view id,
                              std::string_view method, std::string_view params) {
  if (!up) return;
  if (method == "ping") return up->respond(id, "{}");  // basic/utilities/ping.mdx
  std::string_view needs = capability_for(method);
  if (needs.empty()) return up->respond_error(id, kMethodNotFound, "Method not found");
  InFlight* f = caller_of(e, up);
  if (f && f->reply.modern()) {
    // 2026-07-28 clients take these as InputRequiredResult rounds (input_rounds.cpp), if the
    // request's _meta declared the capability (mrtr.mdx: never ask what was not declared).
    if (!declares(f->capabilities, needs))
      return up->respond_error(
          id, kMethodNotFound,
          "Method not found: the client did not declare the " + std::string(needs) + " capability");
    return ask_input(*f, up, id, method, params);
  }
  if (!f || !f->reply.active())
    return up->respond_error(id, kMethodNotFound,
                             "Method not found: no client call in flight to relay it to");
  if (!declares(f->reply.client_capabilities(), needs))
    return up->respond_error(
        id, kMethodNotFound,
        "Method not found: the client did not declare the " + std::string(needs) + " capability");
  uint64_t number = f->reply.request(method, params.empty() ? std::string_view("{}") : params);
  if (number == 0)
    return up->respond_error(id, kInternalError, "could not relay the request to the client");
  relayed_[number] = Relayed{up->weak_from_this(), std::string(id)};
}

// A 2026-07-28 client's subscriptions/listen as the core keeps it: the core holds the channel
// for as long as the listen is open and drops it when the listen ends (notifications/cancelled,
// the client's stream closed, the session's end), which releases the listen's URIs.
class ProxyCore::ListenChannel final : public Channel {
 public:
  ListenChannel(ProxyCore& proxy, std::shared_ptr<Channel> inner, std::vector<std::string> uris)
      : proxy_(proxy), alive_(proxy.alive_), inner_(std::move(inner)), uris_(std::move(uris)) {
    for (const auto& uri : uris_) proxy_.acquire(uri);
  }
  ~ListenChannel() override {
    if (!alive_.lock()) return;  // the proxy is being destroyed
    for (const auto& uri : uris_) proxy_.release(uri);
  }
  void send(std::string_view message, bool final, bool refused) override {
    inner_->send(message, final, refused);
  }
  void send_not_found(std::string_view message) override { inner_->send_not_found(message); }
  void pending(std::function<void()> cancel) override { inner_->pending(std::move(cancel)); }
  const HeaderLookup* headers() const override { return inner_->headers(); }
  void close_stream() override { inner_->close_stream(); }

 private:
  ProxyCore& proxy_;
  std::weak_ptr<bool> alive_;
  std::shared_ptr<Channel> inner_;
  std::vector<std::string> uris_;  // qualified, each once
};

std::shared_ptr<Channel> ProxyCore::listen_channel(std::shared_ptr<Channel> inner,
                                                   std::vector<std::string> uris) {
  return std::make_shared<ListenChannel>(*this, std::move(inner), std::move(uris));
}

ProxyCore::Interest& ProxyCore::interest_of(const std::shared_ptr<Session>& session) {
  purge_interests();
  for (auto& in : interests_)
    if (in.session.lock() == session) return in;
  interests_.push_back(Interest{session, false, LogLevel::kDebug, {}});
  return interests_.back();
}

void ProxyCore::purge_interests() {
  // Sessions destroyed without end_session (a transport that just dropped them).
  for (size_t i = 0; i < interests_.size();) {
    if (!interests_[i].session.expired()) {
      ++i;
      continue;
    }
    Interest gone = std::move(interests_[i]);
    interests_.erase(interests_.begin() + static_cast<std::ptrdiff_t>(i));
    for (const auto& uri : gone.uris) release(uri);
  }
}

void ProxyCore::end_session(Session& session) {
  for (auto it = interests_.begin(); it != interests_.end(); ++it) {
    if (it->session.lock().get() != &session) continue;
    Interest gone = std::move(*it);
    interests_.erase(it);
    for (const auto& uri : gone.uris) release(uri);
    if (gone.has_level) sync_levels();  // the most verbose level may be less verbose now
    break;
  }
  ServerCore::end_session(session);  // its listens end too (ListenChannel)
}

void ProxyCore::acquire(std::string_view qualified) {
  std::string_view name, uri;
  if (!split_uri(qualified, name, uri)) return;
  Entry* e = find(name);
  if (!e) return;
  auto it = e->subscribed.find(uri);
  if (it != e->subscribed.end()) {
    ++it->second;
    return;
  }
  e->subscribed.emplace(std::string(uri), 1);
  schedule_sync(*e);
}

void ProxyCore::release(std::string_view qualified) {
  std::string_view name, uri;
  if (!split_uri(qualified, name, uri)) return;
  Entry* e = find(name);
  if (!e) return;
  auto it = e->subscribed.find(uri);
  if (it == e->subscribed.end() || --it->second > 0) return;
  e->subscribed.erase(it);  // the last client that wanted it is gone
  schedule_sync(*e);
}

void ProxyCore::schedule_sync(Entry& e) {
  // Deferred: a release may come from inside the core (a listen ending), and the changes of
  // one loop turn (a session with many subscriptions leaving) become one round of messages.
  if (e.sync_pending) return;
  e.sync_pending = true;
  loop_.defer([this, alive = std::weak_ptr<bool>(alive_), entry = &e] {
    if (!alive.lock()) return;
    entry->sync_pending = false;
    sync_subscriptions(*entry);
  });
}

void ProxyCore::sync_subscriptions(Entry& e) {
  client::Upstream* up = e.upstream.get();
  if (!e.started || !up || !up->alive()) return;  // told on (re)start instead
  if (up->modern()) {
    // 2026-07-28 subscriptions.mdx: a listen's filter is fixed when it opens; a new set is a
    // new listen (listen_upstream).
    bool same = e.listen_id != 0 && e.listening.size() == e.subscribed.size() &&
                std::equal(e.listening.begin(), e.listening.end(), e.subscribed.begin(),
                           [](const std::string& a, const auto& b) { return a == b.first; });
    if (!same) listen_upstream(e);
    return;
  }
  // 2025-11-25 server/resources.mdx "Subscriptions": one subscribe per URI some client wants,
  // one unsubscribe when the last is gone. The upstream's answers are not waited for.
  std::vector<std::string> now;
  now.reserve(e.subscribed.size());
  for (const auto& [uri, count] : e.subscribed) now.push_back(uri);
  auto tell = [up](std::string_view method, std::string_view uri) {
    std::string members = R"("uri":)";
    append_string(members, uri);
    (void)up->call(client::Request{method, members, {}, uri});
  };
  for (const auto& uri : e.told)
    if (!std::binary_search(now.begin(), now.end(), uri)) tell("resources/unsubscribe", uri);
  for (const auto& uri : now)
    if (!std::binary_search(e.told.begin(), e.told.end(), uri)) tell("resources/subscribe", uri);
  e.told = std::move(now);  // sorted: the map's order
}

bool ProxyCore::wanted_level(LogLevel& level) {
  purge_interests();
  bool any = false;
  for (const auto& in : interests_) {
    if (!in.has_level || (any && in.level >= level)) continue;
    level = in.level;  // the most verbose (lowest) level asked for
    any = true;
  }
  return any;
}

void ProxyCore::sync_levels() {
  LogLevel level;
  // Nobody asked (or the last who did left): the level last sent stays, as the upstream has no
  // way back to its own default.
  if (!wanted_level(level)) return;
  for (auto& e : entries_) sync_level(*e, level);
}

void ProxyCore::sync_level(Entry& e, LogLevel level) {
  client::Upstream* up = e.upstream.get();
  // 2026-07-28 upstreams take the level per request (forward()); 2025-11-25 ones only if they
  // declared logging (2025-11-25 server/utilities/logging.mdx "Capabilities").
  if (!e.started || !up || !up->alive() || up->modern()) return;
  if (e.level_sent == static_cast<int>(level) || member_raw(up->capabilities(), "logging").empty())
    return;
  e.level_sent = static_cast<int>(level);
  std::string members = R"("level":)";
  append_string(members, log_level_name(level));
  (void)up->call(client::Request{"logging/setLevel", members, {}, {}});
}

void ProxyCore::listen_upstream(Entry& e) {
  client::Upstream* up = e.upstream.get();
  if (!up || !up->alive() || !up->modern()) return;
  // The new stream with the whole filter opens before the previous one ends (stdio:
  // notifications/cancelled naming it; HTTP: its connection closed), so no update falls
  // between the two; one that both carry may be relayed twice.
  const uint64_t previous = e.listen_id;
  e.listening.clear();
  std::string members = R"("notifications":{"toolsListChanged":true,"promptsListChanged":true,)"
                        R"("resourcesListChanged":true)";
  if (!e.subscribed.empty()) {
    members += R"(,"resourceSubscriptions":[)";
    bool first = true;
    for (const auto& [uri, count] : e.subscribed) {
      if (!first) members += ',';
      first = false;
      append_string(members, uri);
      e.listening.push_back(uri);
    }
    members += ']';
  }
  members += '}';
  client::Request request{"subscriptions/listen", members, {}, {}};
  request.timeout = std::chrono::milliseconds(0);  // open until cancelled or the upstream ends it
  uint64_t id = 0;
  std::weak_ptr<client::Upstream> weak = up->weak_from_this();
  (void)up->call(request, &id)
      .then([this, alive = std::weak_ptr<bool>(alive_), entry = &e, weak, id](client::Response r) {
        if (!alive.lock() || weak.expired() || entry->listen_id != id) return;
        entry->listen_id = 0;
        entry->listening.clear();
        if (!r.ok && !r.local)
          FA_LOG(::fa::LogLevel::kWarning,
                 "mcp proxy: upstream '%s' refused subscriptions/listen: %d %s",
                 entry->name.c_str(), r.code, r.message.c_str());
      });
  e.listen_id = id;
  if (previous) up->cancel(previous, "The proxy's subscriptions changed");
}

void ProxyCore::response(uint64_t number, bool ok, std::string_view json) {
  auto it = relayed_.find(number);
  if (it == relayed_.end()) return;
  Relayed r = std::move(it->second);
  relayed_.erase(it);
  if (!r.key.empty()) {  // an entry of a 2026-07-28 upstream's inputRequests
    if (auto flight = r.round.lock()) round_answer(flight, r.key, ok, json);
    return;
  }
  auto up = r.upstream.lock();
  if (!up || !up->alive()) return;
  if (ok) return up->respond(r.id, json);
  // The client's error object, passed on as it came.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t code = kInternalError;
  std::string_view message = "error";
  if (!parser.parse(json.data(), json.size()).get(doc)) {
    if (doc["code"].get_int64().get(code)) code = kInternalError;
    if (doc["message"].get_string().get(message)) message = "error";
  }
  up->respond_error(r.id, static_cast<int>(code), message, member_raw(json, "data"));
}

}  // namespace fa::mcp::proxy
