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

#include <string>

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

// The client capability a server-to-client request needs (2025-11-25 schema
// ClientCapabilities), empty for none.
std::string_view capability_for(std::string_view method) {
  if (method.starts_with("sampling/")) return "sampling";
  if (method.starts_with("elicitation/")) return "elicitation";
  if (method.starts_with("roots/")) return "roots";
  return {};
}

bool declares(std::string_view capabilities, std::string_view key) {
  if (capabilities.empty()) return false;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object caps;
  if (parser.parse(capabilities.data(), capabilities.size()).get(doc) || doc.get_object().get(caps))
    return false;
  for (auto field : caps)
    if (field.key == key) return true;
  return false;
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
    if (!f) return;  // no call to attach it to: a log line of the upstream's own
    LogLevel level = LogLevel::kInfo;
    (void)parse_log_level(member_string(params, "level"), level);
    std::string data = member_raw(params, "data");
    f->reply.log(level, member_string(params, "logger"), data.empty() ? "null" : data);
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
      return up->respond_error(id, kMethodNotFound,
                               "Method not found: the client did not declare the " +
                                   std::string(needs) + " capability");
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

void ProxyCore::subscribe_upstream(std::string_view method, std::string_view qualified) {
  std::string_view name, uri;
  if (!split_uri(qualified, name, uri)) return;
  client::Upstream* up = upstream_of(name);
  if (!up) return;
  std::string members = R"("uri":)";
  append_string(members, uri);
  // The client's answer comes from the core; the upstream's is not waited for.
  (void)up->call(client::Request{method, members, {}, uri});
}

void ProxyCore::response(uint64_t number, bool ok, std::string_view json) {
  auto it = relayed_.find(number);
  if (it == relayed_.end()) return;
  Relayed r = std::move(it->second);
  relayed_.erase(it);
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
