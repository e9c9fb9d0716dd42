// ServerCore: MCP 2025-11-25 method dispatch (server/*.mdx, basic/lifecycle.mdx).
#include "mcp/server_core.h"

#include <charconv>

#include "mcp/jsonrpc.h"

namespace fa::mcp {

bool is_supported_version(std::string_view version) {
  for (auto v : kSupportedVersions)
    if (v == version) return true;
  return false;
}

bool is_known_version(std::string_view version) {
  return version == kModernVersion || is_supported_version(version);
}

ServerCore::ServerCore(Application& app, ServerInfo info) : app_(app), info_(std::move(info)) {}

int ServerCore::add(Listing& listing, std::string name, std::string descriptor_json) {
  auto it = listing.index.find(name);
  if (it != listing.index.end()) {
    listing.items[static_cast<size_t>(it->second)] = std::move(descriptor_json);
    return it->second;
  }
  int index = static_cast<int>(listing.items.size());
  listing.items.push_back(std::move(descriptor_json));
  listing.index.emplace(std::move(name), index);
  return index;
}

int ServerCore::add_tool(std::string name, std::string descriptor_json) {
  return add(tools_, std::move(name), std::move(descriptor_json));
}
int ServerCore::add_resource(std::string uri, std::string descriptor_json) {
  return add(resources_, std::move(uri), std::move(descriptor_json));
}
void ServerCore::add_resource_template(std::string descriptor_json) {
  std::string key = std::to_string(templates_.items.size());
  add(templates_, std::move(key), std::move(descriptor_json));
}
int ServerCore::add_prompt(std::string name, std::string descriptor_json) {
  return add(prompts_, std::move(name), std::move(descriptor_json));
}

Outcome ServerCore::handle(const std::shared_ptr<Session>& session, std::string_view text,
                           const std::shared_ptr<Channel>& channel) {
  Message msg;
  ParseFailure failure;
  if (!session->parser.parse(text, msg, failure)) {
    out_.clear();
    encode_error(out_, failure.id, failure.code, failure.reason);
    channel->send(out_, true, true);  // not a readable request: HTTP answers 400
    return Outcome::kAnswered;
  }
  return dispatch(session, msg, channel);
}

Outcome ServerCore::dispatch(const std::shared_ptr<Session>& session, const Message& msg,
                             const std::shared_ptr<Channel>& channel) {
  switch (msg.kind) {
    case MessageKind::kResponse:
    case MessageKind::kError:
      return Outcome::kNoReply;  // we send the client no requests yet
    case MessageKind::kNotification:
      notification(*session, msg);
      return Outcome::kNoReply;
    case MessageKind::kRequest:
      break;
  }
  const std::string_view m = msg.method;
  const bool modern = msg.known.has_meta_version;
  if (modern && msg.known.meta_version != kModernVersion) {
    // 2026-07-28 basic/versioning.mdx: name the versions we speak so the client can pick one.
    std::string data = R"({"supported":[")";
    data += kModernVersion;
    for (auto v : kSupportedVersions) {
      data += R"(",")";
      data += v;
    }
    data += R"("],"requested":)";
    append_string(data, msg.known.meta_version);
    data += "}";
    out_.clear();
    encode_error(out_, msg.id, kUnsupportedProtocolVersion, "Unsupported protocol version", data);
    channel->send(out_, true, true);
    return Outcome::kAnswered;
  }
  if (m == "tools/call") return upcall(session, msg, channel, CallKind::kTool);
  if (m == "resources/read") return upcall(session, msg, channel, CallKind::kResource);
  if (m == "prompts/get") return upcall(session, msg, channel, CallKind::kPrompt);
  if (m == "completion/complete" && completions_) return upcall(session, msg, channel, CallKind::kCompletion);

  std::string result;
  bool ok = true;
  bool cacheable = false;
  if (m == "initialize") {
    initialize(*session, msg, result);
  } else if (m == "server/discover") {
    discover(result);
    cacheable = true;
  } else if (m == "ping") {
    result = "{}";
  } else if (m == "tools/list") {
    ok = list(*session, tools_, msg, result);
    cacheable = true;
  } else if (m == "resources/list") {
    ok = list(*session, resources_, msg, result);
    cacheable = true;
  } else if (m == "resources/templates/list") {
    ok = list(*session, templates_, msg, result);
    cacheable = true;
  } else if (m == "prompts/list") {
    ok = list(*session, prompts_, msg, result);
    cacheable = true;
  } else if (m == "resources/subscribe" || m == "resources/unsubscribe") {
    // server/resources.mdx "Subscriptions": acknowledged per session. Our resources change only
    // when the application says so, and it has no way to yet, so no updates follow.
    ok = msg.known.has_uri;
    if (ok) {
      if (m == "resources/subscribe")
        session->subscriptions.emplace(msg.known.uri);
      else
        session->subscriptions.erase(std::string(msg.known.uri));
      result = "{}";
    } else {
      result = "Invalid params: uri must be a string";
    }
  } else if (m == "logging/setLevel") {
    LogLevel level;
    ok = msg.known.has_level && parse_log_level(msg.known.level, level);
    if (ok) {
      session->log_level = level;
      result = "{}";
    } else {
      result = "Invalid params: level must be one of debug, info, notice, warning, error, "
               "critical, alert, emergency";
    }
  } else {
    out_.clear();
    encode_error(out_, msg.id, kMethodNotFound, "Method not found", [&] {
      std::string data;
      append_string(data, m);
      return data;
    }());
    channel->send(out_, true, false);
    return Outcome::kAnswered;
  }
  out_.clear();
  if (ok && (modern || m == "server/discover"))
    encode_result(out_, msg.id, modern_result(result, cacheable));
  else if (ok)
    encode_result(out_, msg.id, result);
  else
    encode_error(out_, msg.id, kInvalidParams, result);
  channel->send(out_, true, false);
  return Outcome::kAnswered;
}

void ServerCore::initialize(Session& session, const Message& msg, std::string& result) {
  // basic/lifecycle.mdx: echo a version we support, else answer with our latest.
  if (is_supported_version(msg.known.protocol_version))
    session.protocol_version = msg.known.protocol_version;
  else
    session.protocol_version = kLatestVersion;
  result = R"({"protocolVersion":")";
  result += session.protocol_version;
  result += R"(","capabilities":)";
  capabilities(result);
  result += R"(,"serverInfo":{"name":)";
  append_string(result, info_.name);
  result += R"(,"version":)";
  append_string(result, info_.version);
  if (!info_.title.empty()) {
    result += R"(,"title":)";
    append_string(result, info_.title);
  }
  result += "}";
  if (!info_.instructions.empty()) {
    result += R"(,"instructions":)";
    append_string(result, info_.instructions);
  }
  result += "}";
}

void ServerCore::capabilities(std::string& out) {
  out += R"({"logging":{},)";
  if (completions_) out += R"("completions":{},)";
  out += R"("prompts":{"listChanged":false},"resources":{"subscribe":true,"listChanged":false},)"
         R"("tools":{"listChanged":false}})";
}

void ServerCore::discover(std::string& result) {
  // 2026-07-28 server/discover.mdx: versions, capabilities, identity in _meta.
  result = R"({"supportedVersions":[")";
  result += kModernVersion;
  result += R"("],"capabilities":)";
  capabilities(result);
  if (!info_.instructions.empty()) {
    result += R"(,"instructions":)";
    append_string(result, info_.instructions);
  }
  result += R"(,"_meta":{"io.modelcontextprotocol/serverInfo":{"name":)";
  append_string(result, info_.name);
  result += R"(,"version":)";
  append_string(result, info_.version);
  result += "}}}";
}

bool ServerCore::list(Session& session, const Listing& listing, const Message& msg,
                      std::string& result) {
  // server/utilities/pagination.mdx: the cursor is opaque to clients; ours is an offset.
  size_t offset = 0;
  if (msg.known.has_cursor) {
    std::string_view cursor = msg.known.cursor;
    auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), offset);
    if (ec != std::errc() || end != cursor.data() + cursor.size() || cursor.empty() ||
        offset > listing.items.size()) {
      result = "Invalid params: invalid cursor";
      return false;
    }
  }
  size_t stop = std::min(listing.items.size(), offset + page_size_);
  result = "{\"";
  result += listing.key;
  result += "\":[";
  for (size_t i = offset; i < stop; ++i) {
    if (i != offset) result.push_back(',');
    result += listing.items[i];
  }
  result.push_back(']');
  if (stop < listing.items.size()) {
    result += R"(,"nextCursor":")";
    result += std::to_string(stop);
    result.push_back('"');
  }
  result.push_back('}');
  return true;
}

Outcome ServerCore::upcall(const std::shared_ptr<Session>& session, const Message& msg,
                           const std::shared_ptr<Channel>& channel, CallKind kind) {
  auto refuse = [&](int code, std::string_view message) {
    out_.clear();
    encode_error(out_, msg.id, code, message);
    channel->send(out_, true, false);
    return Outcome::kAnswered;
  };
  const KnownParams& known = msg.known;
  Call call;
  call.kind = kind;
  call.params = msg.params;
  if (kind == CallKind::kResource) {
    if (!known.has_uri) return refuse(kInvalidParams, "Invalid params: uri must be a string");
    call.name = known.uri;
    auto it = resources_.index.find(std::string(known.uri));
    if (it != resources_.index.end()) call.index = it->second;
  } else if (kind != CallKind::kCompletion) {
    if (!known.has_name) return refuse(kInvalidParams, "Invalid params: name must be a string");
    call.name = known.name;
    const Listing& listing = kind == CallKind::kTool ? tools_ : prompts_;
    session->scratch.assign(known.name);
    auto it = listing.index.find(session->scratch);
    if (it == listing.index.end())
      return refuse(kInvalidParams, (kind == CallKind::kTool ? "Unknown tool: " : "Unknown prompt: ") +
                                        session->scratch);
    call.index = it->second;
    call.arguments = known.arguments;
    if (call.arguments == "null") call.arguments = {};
    if (!call.arguments.empty() && call.arguments.front() != '{')
      return refuse(kInvalidParams, "Invalid params: arguments must be an object");
  }
  // server/utilities/progress.mdx: params._meta.progressToken (a string or an integer).
  std::string_view token = known.progress_token;

  const uint64_t call_id = next_call_id_++;
  std::string id(msg.id);
  session->in_flight[id] = call_id;
  ReplyStyle style;
  style.modern = known.has_meta_version;
  style.cacheable = style.modern && kind == CallKind::kResource;
  style.has_log_level = known.has_meta_log_level && parse_log_level(known.meta_log_level, style.log_level);
  Reply reply(session, channel, std::move(id), std::string(token), call_id, style);
  app_.call(call, reply);
  if (!reply.active()) return Outcome::kAnswered;
  channel->pending([this, weak = std::weak_ptr<Session>(session), id = std::string(reply.id())] {
    if (auto s = weak.lock()) cancel_request(*s, id);
  });
  return Outcome::kPending;
}

void ServerCore::notification(Session& session, const Message& msg) {
  if (msg.method == "notifications/initialized") {
    session.initialized = true;
  } else if (msg.method == "notifications/cancelled") {
    // basic/utilities/cancellation.mdx: unknown or finished ids are ignored.
    if (!msg.known.request_id.empty()) cancel_request(session, msg.known.request_id);
  }
  // Other notifications (roots/list_changed, progress, ...) need nothing from us.
}

void ServerCore::cancel_request(Session& session, std::string_view id) {
  auto it = session.in_flight.find(std::string(id));
  if (it == session.in_flight.end()) return;
  const uint64_t call_id = it->second;
  session.in_flight.erase(it);
  app_.cancel(call_id);
}

void ServerCore::end_session(Session& session) {
  auto in_flight = std::move(session.in_flight);
  session.in_flight.clear();
  for (auto& [id, call_id] : in_flight) app_.cancel(call_id);
}

}  // namespace fa::mcp
