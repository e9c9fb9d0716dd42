// ServerCore: MCP 2025-11-25 method dispatch (server/*.mdx, basic/lifecycle.mdx).
#include "mcp/server_core.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "mcp/jsonrpc.h"

namespace fa::mcp {

namespace {
// `s == literal`, inlined: operator== leaves string_view::compare a call on the per-call path,
// where a constant-length memcmp becomes a few word compares.
template <size_t N>
[[gnu::always_inline]] inline bool is(std::string_view s, const char (&literal)[N]) {
  return s.size() == N - 1 && std::memcmp(s.data(), literal, N - 1) == 0;
}
}  // namespace

bool is_supported_version(std::string_view version) {
  for (auto v : kSupportedVersions)
    if (v == version) return true;
  return false;
}

bool is_known_version(std::string_view version) {
  return version == kModernVersion || is_supported_version(version);
}

ServerCore::ServerCore(Application& app, ServerInfo info) : app_(app), info_(std::move(info)) {
  tasks_->set_listener([this](const Task& task) { notify_task(task); });
}

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

bool ServerCore::remove(Listing& listing, std::string_view name) {
  auto it = listing.index.find(name);
  if (it == listing.index.end()) return false;
  listing.items[static_cast<size_t>(it->second)].clear();  // list() skips withdrawn items
  listing.index.erase(it);
  return true;
}

void ServerCore::track(const std::shared_ptr<Session>& session) {
  std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
  sessions_.push_back(session);
}

size_t ServerCore::broadcast(std::string_view message, std::string_view subscribed_uri) {
  size_t told = 0;
  std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
  for (auto& weak : sessions_) {
    auto session = weak.lock();
    if (!session || !session->notifier || !session->initialized) continue;
    if (!subscribed_uri.empty() && !session->subscriptions.contains(std::string(subscribed_uri))) continue;
    session->notifier->send(message, false, false);
    ++told;
  }
  return told;
}

size_t ServerCore::notify_list_changed(std::string_view what) {
  std::string method = "notifications/";
  method += what;
  method += "/list_changed";
  out_.clear();
  encode_notification(out_, method, {});
  std::string message = out_;
  size_t told = broadcast(message, {});
  std::erase_if(listeners_, [](const Listener& l) { return l.session.expired(); });
  for (auto& l : listeners_) {
    bool wants = what == "tools" ? l.tools : what == "prompts" ? l.prompts : l.resources;
    if (!wants) continue;
    std::string params = R"({"_meta":{"io.modelcontextprotocol/subscriptionId":)" + l.id + "}}";
    out_.clear();
    encode_notification(out_, method, params);
    l.channel->send(out_, false, false);
    ++told;
  }
  return told;
}

size_t ServerCore::notify_resource_updated(std::string_view uri) {
  std::string params = R"({"uri":)";
  append_string(params, uri);
  params += "}";
  out_.clear();
  encode_notification(out_, "notifications/resources/updated", params);
  std::string message = out_;
  size_t told = broadcast(message, uri);
  std::erase_if(listeners_, [](const Listener& l) { return l.session.expired(); });
  for (auto& l : listeners_) {
    if (std::find(l.uris.begin(), l.uris.end(), uri) == l.uris.end()) continue;
    std::string p = R"({"_meta":{"io.modelcontextprotocol/subscriptionId":)" + l.id + R"(},"uri":)";
    append_string(p, uri);
    p += "}";
    out_.clear();
    encode_notification(out_, "notifications/resources/updated", p);
    l.channel->send(out_, false, false);
    ++told;
  }
  return told;
}

Outcome ServerCore::listen(const std::shared_ptr<Session>& session, const Message& msg,
                           const std::shared_ptr<Channel>& channel) {
  Listener l;
  l.session = session;
  l.channel = channel;
  l.id = std::string(msg.id);
  l.call_id = next_call_id_++;
  std::string filter(aux_.raw_member(msg.params, "notifications"));
  l.tools = aux_.raw_member(filter, "toolsListChanged") == "true";
  l.prompts = aux_.raw_member(filter, "promptsListChanged") == "true";
  l.resources = aux_.raw_member(filter, "resourcesListChanged") == "true";
  aux_.string_array_member(filter, "resourceSubscriptions", l.uris);
  aux_.string_array_member(filter, "taskIds", l.task_ids);
  if (!l.task_ids.empty() && !(tasks_enabled_ && declares_tasks(msg))) {
    // SEP-2663 "Task Status Notifications": task notifications need the extension declared.
    out_.clear();
    encode_error(out_, msg.id, kMissingRequiredClientCapability, "Missing required client capability",
                 R"({"requiredCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}})");
    channel->send(out_, true, true);
    return Outcome::kAnswered;
  }
  // Only tasks that exist are agreed to; the acknowledgment names them.
  std::erase_if(l.task_ids, [this](const std::string& id) { return !tasks_->find(id); });
  // The acknowledgment names the subset we honour: all four kinds are served.
  std::string ack = R"({"_meta":{"io.modelcontextprotocol/subscriptionId":)" + l.id + R"(},"notifications":{)";
  bool first = true;
  auto flag = [&](bool on, std::string_view name) {
    if (!on) return;
    if (!first) ack += ',';
    first = false;
    ack += '"';
    ack += name;
    ack += R"(":true)";
  };
  flag(l.tools, "toolsListChanged");
  flag(l.prompts, "promptsListChanged");
  flag(l.resources, "resourcesListChanged");
  if (!l.uris.empty()) {
    if (!first) ack += ',';
    ack += R"("resourceSubscriptions":[)";
    for (size_t i = 0; i < l.uris.size(); ++i) {
      if (i) ack += ',';
      append_string(ack, l.uris[i]);
    }
    ack += ']';
  }
  if (!l.task_ids.empty()) {
    if (!first || !l.uris.empty()) ack += ',';
    ack += R"("taskIds":[)";
    for (size_t i = 0; i < l.task_ids.size(); ++i) {
      if (i) ack += ',';
      append_string(ack, l.task_ids[i]);
    }
    ack += ']';
  }
  ack += "}}";
  out_.clear();
  encode_notification(out_, "notifications/subscriptions/acknowledged", ack);
  channel->send(out_, false, false);
  session->in_flight[l.id] = l.call_id;
  uint64_t call_id = l.call_id;
  listeners_.push_back(std::move(l));
  channel->pending([this, weak = std::weak_ptr<Session>(session), id = std::string(msg.id), call_id] {
    std::erase_if(listeners_, [&](const Listener& x) { return x.call_id == call_id; });
    if (auto s = weak.lock()) s->in_flight.erase(id);
  });
  return Outcome::kPending;
}

void ServerCore::response(Session& session, const Message& msg) {
  auto it = session.outgoing.find(std::string(msg.id));
  if (it == session.outgoing.end()) return;  // not ours, or answered already: ignored
  const uint64_t number = it->second;
  session.outgoing.erase(it);
  if (msg.kind == MessageKind::kResponse)
    app_.response(number, true, msg.result);
  else
    app_.response(number, false, msg.error);
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

void ServerCore::set_tool_headers(std::string_view name, std::vector<ParamHeader> params) {
  auto it = tools_.index.find(std::string(name));
  if (it == tools_.index.end()) return;
  auto i = static_cast<size_t>(it->second);
  if (tool_headers_.size() <= i) tool_headers_.resize(i + 1);
  tool_headers_[i] = std::move(params);
}

Outcome ServerCore::handle(const std::shared_ptr<Session>& session, std::string_view text,
                           const std::shared_ptr<Channel>& channel) {
  Message msg;
  ParseFailure failure;
  if (!session->parser.parse_fresh(text, msg, failure)) {
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
      response(*session, msg);  // to a request we sent (Reply::request)
      return Outcome::kNoReply;
    case MessageKind::kNotification:
      notification(*session, msg);
      return Outcome::kNoReply;
    case MessageKind::kRequest:
      break;
  }
  const std::string_view m = msg.method;
  const bool modern = msg.known.has_meta_version;
  if (session->stateless && !(modern && msg.known.has_meta && !msg.known.meta_client_capabilities.empty())) {
    // 2026-07-28 basic/index.mdx: every request carries its protocol version and the client's
    // capabilities in _meta.
    out_.clear();
    encode_error(out_, msg.id, kInvalidParams,
                 !msg.known.has_meta ? "Invalid params: missing _meta"
                 : !modern ? "Invalid params: _meta lacks io.modelcontextprotocol/protocolVersion"
                           : "Invalid params: _meta lacks io.modelcontextprotocol/clientCapabilities");
    channel->send(out_, true, true);
    return Outcome::kAnswered;
  }
  const HeaderLookup* headers = modern ? channel->headers() : nullptr;
  auto header_mismatch = [&](const std::string& why) {
    out_.clear();
    encode_error(out_, msg.id, kHeaderMismatch, why);
    channel->send(out_, true, true);
    return Outcome::kAnswered;
  };
  if (headers) {
    if (std::string why = check_version_header(msg, *headers); !why.empty()) return header_mismatch(why);
  }
  if (modern && msg.known.meta_version != kModernVersion) {
    // 2026-07-28 basic/versioning.mdx: name the versions a stateless request may use (the same
    // list as server/discover's supportedVersions); earlier ones go through initialize.
    std::string data = R"({"supported":[")";
    data += kModernVersion;
    data += R"("],"requested":)";
    append_string(data, msg.known.meta_version);
    data += "}";
    out_.clear();
    encode_error(out_, msg.id, kUnsupportedProtocolVersion, "Unsupported protocol version", data);
    channel->send(out_, true, true);
    return Outcome::kAnswered;
  }
  if (headers) {
    std::span<const ParamHeader> params;
    if (is(m, "tools/call") && msg.known.has_name) {
      auto it = tools_.index.find(msg.known.name);
      if (it != tools_.index.end() && static_cast<size_t>(it->second) < tool_headers_.size())
        params = tool_headers_[static_cast<size_t>(it->second)];
    }
    if (std::string why = check_mirrored_headers(msg, *headers, params, aux_); !why.empty())
      return header_mismatch(why);
  }
  if (modern && (m == "initialize" || m == "ping" || m == "logging/setLevel" ||
                 m == "resources/subscribe" || m == "resources/unsubscribe")) {
    // 2026-07-28 changelog: removed methods are answered like any unknown method.
    out_.clear();
    std::string data;
    append_string(data, m);
    encode_error(out_, msg.id, kMethodNotFound, "Method not found", data);
    channel->send_not_found(out_);
    return Outcome::kAnswered;
  }
  if (modern && m == "subscriptions/listen") return listen(session, msg, channel);
  if (modern && tasks_enabled_ && (m == "tasks/get" || m == "tasks/update" || m == "tasks/cancel"))
    return task_method(msg, channel);
  if (is(m, "tools/call")) return upcall(session, msg, channel, CallKind::kTool);
  if (m == "resources/read") return upcall(session, msg, channel, CallKind::kResource);
  if (m == "prompts/get") return upcall(session, msg, channel, CallKind::kPrompt);
  if (m == "completion/complete" && completions_) return upcall(session, msg, channel, CallKind::kCompletion);

  std::string result;
  bool ok = true;
  bool cacheable = false;
  if (m == "initialize") {
    initialize(*session, msg, result);
    track(session);
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
    if (modern)
      channel->send_not_found(out_);
    else
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
  session.client_capabilities = msg.known.capabilities.empty() ? "{}" : std::string(msg.known.capabilities);
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

void ServerCore::capabilities(std::string& out, bool modern) {
  out += R"({"logging":{},)";
  // SEP-2663 "Capability Negotiation": server/discover only; 2025-11-25 has no such extension.
  if (modern && tasks_enabled_) out += R"("extensions":{"io.modelcontextprotocol/tasks":{}},)";
  if (completions_) out += R"("completions":{},)";
  out += R"("prompts":{"listChanged":true},"resources":{"subscribe":true,"listChanged":true},)"
         R"("tools":{"listChanged":true}})";
}

void ServerCore::discover(std::string& result) {
  // 2026-07-28 server/discover.mdx: versions, capabilities, identity in _meta.
  result = R"({"supportedVersions":[")";
  result += kModernVersion;
  result += R"("],"capabilities":)";
  capabilities(result, true);
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
  bool first = true;
  for (size_t i = offset; i < stop; ++i) {
    if (listing.items[i].empty()) continue;  // withdrawn
    if (!first) result.push_back(',');
    first = false;
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
    auto it = resources_.index.find(known.uri);
    if (it != resources_.index.end()) call.index = it->second;
  } else if (kind != CallKind::kCompletion) {
    if (!known.has_name) return refuse(kInvalidParams, "Invalid params: name must be a string");
    call.name = known.name;
    const Listing& listing = kind == CallKind::kTool ? tools_ : prompts_;
    auto it = listing.index.find(known.name);
    if (it == listing.index.end())
      return refuse(kInvalidParams, (kind == CallKind::kTool ? "Unknown tool: " : "Unknown prompt: ") +
                                        std::string(known.name));
    call.index = it->second;
    call.arguments = known.arguments;
    if (is(call.arguments, "null")) call.arguments = {};
    if (!call.arguments.empty() && call.arguments.front() != '{')
      return refuse(kInvalidParams, "Invalid params: arguments must be an object");
  }
  // server/utilities/progress.mdx: params._meta.progressToken (a string or an integer).
  std::string_view token = known.progress_token;

  const uint64_t call_id = next_call_id_++;
  session->in_flight[msg.id] = call_id;
  ReplyStyle style;
  style.modern = known.has_meta_version;
  style.cacheable = style.modern && kind == CallKind::kResource;
  style.has_log_level = known.has_meta_log_level && parse_log_level(known.meta_log_level, style.log_level);
  style.tasks = style.modern && tasks_enabled_ && kind == CallKind::kTool && declares_tasks(msg);
  // 2026-07-28: the application reads inputResponses, requestState and _meta from the params.
  Reply reply(reply_cache_, session, channel, msg.id, token, call_id, style,
              style.modern ? msg.params : std::string_view());
  if (style.tasks) reply.allow_tasks(tasks_);
  app_.call(call, reply);
  const bool pending = reply.active() && !reply.in_task();
  if (pending) {
    channel->pending([this, weak = std::weak_ptr<Session>(session), id = std::string(reply.id())] {
      if (auto s = weak.lock()) cancel_request(*s, id);
    });
  }
  reply.recycle(reply_cache_);
  return pending ? Outcome::kPending : Outcome::kAnswered;
}

bool ServerCore::declares_tasks(const Message& msg) {
  std::string_view caps = msg.known.meta_client_capabilities;
  if (caps.empty()) return false;
  std::string_view extensions = aux_.raw_member(caps, "extensions");
  return !extensions.empty() && !aux_.raw_member(extensions, kTasksExtension).empty();
}

Outcome ServerCore::task_method(const Message& msg, const std::shared_ptr<Channel>& channel) {
  const std::string_view m = msg.method;
  if (!declares_tasks(msg)) {
    // SEP-2663 "Protocol Errors": clients that did not declare the extension get -32021.
    out_.clear();
    encode_error(out_, msg.id, kMissingRequiredClientCapability, "Missing required client capability",
                 R"({"requiredCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}})");
    channel->send(out_, true, true);
    return Outcome::kAnswered;
  }
  auto invalid = [&](std::string_view why) {
    out_.clear();
    encode_error(out_, msg.id, kInvalidParams, why);
    channel->send(out_, true, false);
    return Outcome::kAnswered;
  };
  if (!msg.known.has_task_id) return invalid("Invalid params: taskId must be a string");
  // An unknown or expired task is -32602 (SEP-2663 "Protocol Errors").
  std::shared_ptr<Task> task = tasks_->find(msg.known.task_id);
  if (!task) return invalid("Failed to retrieve task: Task not found");
  // tasks/get answers the DetailedTask; tasks/update and tasks/cancel an empty acknowledgment.
  // All three carry resultType "complete".
  std::string result = R"({"resultType":"complete")";
  std::vector<std::pair<uint64_t, std::string>> answered;
  if (m == "tasks/get") {
    result += ',';
    encode_task_members(result, *task, true);
  } else if (m == "tasks/update") {
    std::string_view responses = aux_.raw_member(msg.params, "inputResponses");
    std::vector<std::pair<std::string, std::string>> members;
    if (responses.empty() || responses.front() != '{' || !aux_.object_members(responses, members))
      return invalid("Invalid params: inputResponses must be an object");
    // Keys that are not outstanding (never issued, answered already) are ignored.
    for (auto& member : members) {  // not a structured binding: clang 14 cannot capture one
      const std::string& key = member.first;
      auto it = std::find_if(task->inputs.begin(), task->inputs.end(),
                             [&](const Task::Input& in) { return in.key == key; });
      if (it == task->inputs.end()) continue;
      answered.emplace_back(it->number, std::move(member.second));
      task->inputs.erase(it);
    }
    if (!answered.empty()) {
      if (task->inputs.empty() && task->status == TaskStatus::kInputRequired)
        task->status = TaskStatus::kWorking;
      tasks_->touch(*task);
    }
  } else if (!task->terminal()) {  // tasks/cancel: cooperative; a finished task stays finished
    task->status = TaskStatus::kCancelled;
    task->status_message = "Cancelled by the client";
    task->inputs.clear();
    tasks_->touch(*task);
    app_.cancel(task->call_id);
  }
  result += '}';
  out_.clear();
  encode_result(out_, msg.id, result);
  channel->send(out_, true, false);
  // The answers reach the waiting work after the acknowledgment (tasks/update is eventually
  // consistent: the next tasks/get shows the task going on).
  for (auto& [number, value] : answered) app_.response(number, true, value);
  return Outcome::kAnswered;
}

void ServerCore::notify_task(const Task& task) {
  // SEP-2663 "Task Status Notifications": the whole DetailedTask to the streams that asked.
  std::erase_if(listeners_, [](const Listener& l) { return l.session.expired(); });
  for (auto& l : listeners_) {
    if (std::find(l.task_ids.begin(), l.task_ids.end(), task.id) == l.task_ids.end()) continue;
    std::string params = R"({"_meta":{"io.modelcontextprotocol/subscriptionId":)" + l.id + "},";
    encode_task_members(params, task, true);
    params += '}';
    std::string message;
    encode_notification(message, "notifications/tasks", params);
    l.channel->send(message, false, false);
  }
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
  auto it = session.in_flight.find(id);
  if (it == session.in_flight.end()) return;
  const uint64_t call_id = it->second;
  session.in_flight.erase(it);
  // A subscriptions/listen stream ends with its request (basic/patterns/subscriptions.mdx).
  if (std::erase_if(listeners_, [&](const Listener& l) { return l.call_id == call_id; })) return;
  app_.cancel(call_id);
}

void ServerCore::end_session(Session& session) {
  std::erase_if(listeners_, [&](const Listener& l) {
    auto s = l.session.lock();
    return !s || s.get() == &session;
  });
  auto in_flight = std::move(session.in_flight);
  session.in_flight.clear();
  for (auto& [id, call_id] : in_flight) app_.cancel(call_id);
}

}  // namespace fa::mcp
