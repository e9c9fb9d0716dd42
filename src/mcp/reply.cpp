// Reply: late answers and request-scoped notifications.
#include "mcp/reply.h"

#include <atomic>
#include <charconv>
#include <iterator>

namespace fa::mcp {

namespace {
constexpr std::string_view kLevelNames[] = {"debug", "info",     "notice", "warning",
                                            "error", "critical", "alert",  "emergency"};

void append_number(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(end - buf));
}
}  // namespace

bool parse_log_level(std::string_view name, LogLevel& level) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (kLevelNames[i] == name) {
      level = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

std::string_view log_level_name(LogLevel level) { return kLevelNames[static_cast<size_t>(level)]; }

Reply::Reply(std::weak_ptr<Session> session, std::shared_ptr<Channel> channel, std::string id,
             std::string progress_token, uint64_t call_id, ReplyStyle style, std::string params)
    : state_(std::make_shared<State>(State{std::move(session), std::move(channel), std::move(id),
                                           std::move(progress_token), call_id, false, style,
                                           std::move(params)})) {}

Reply::Reply(std::shared_ptr<State>& cache, const std::shared_ptr<Session>& session,
             const std::shared_ptr<Channel>& channel, std::string_view id,
             std::string_view progress_token, uint64_t call_id, ReplyStyle style,
             std::string_view params) {
  // The reply takes the cache's reference (no count taken and dropped per call); recycle()
  // hands it back once the call was made.
  if (!cache || cache.use_count() != 1) cache = std::make_shared<State>();
  state_ = std::move(cache);
  State& s = *state_;
  // The same session call after call (stdio, an HTTP session): keep the weak reference as it is
  // rather than re-counting it (two atomic operations per call).
  if (s.session.owner_before(session) || session.owner_before(s.session)) s.session = session;
  s.channel = channel;
  s.id.assign(id);  // assign keeps the strings' capacity
  // Usually absent: clear() is inline where assign() is a call.
  if (progress_token.empty())
    s.progress_token.clear();
  else
    s.progress_token.assign(progress_token);
  s.call_id = call_id;
  s.done = false;
  s.style = style;
  if (params.empty())
    s.params.clear();
  else
    s.params.assign(params);
  if (!s.store.expired()) s.store.reset();
  if (s.task) s.task.reset();
}


std::string modern_result(std::string_view json, bool cacheable) {
  // ttlMs 0 with private scope: results may change at any time and are per caller.
  std::string_view members = cacheable ? R"("resultType":"complete","ttlMs":0,"cacheScope":"private")"
                                       : R"("resultType":"complete")";
  std::string out;
  size_t brace = json.find('{');
  if (brace == std::string_view::npos) return std::string(json);
  // A result that names its own type (InputRequiredResult, "input_required") keeps it.
  if (json.substr(brace + 1).starts_with(R"("resultType")")) return std::string(json);
  out.reserve(json.size() + members.size() + 2);
  out.append(json.substr(0, brace + 1));
  out.append(members);
  std::string_view rest = json.substr(brace + 1);
  size_t first = rest.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && rest[first] != '}') out.push_back(',');
  out.append(rest);
  return out;
}

std::shared_ptr<Session> Reply::live() const {
  if (!state_ || state_->done || !state_->channel) return nullptr;
  auto session = state_->session.lock();
  if (!session) return nullptr;
  auto it = session->in_flight.find(state_->id);
  if (it == session->in_flight.end() || it->second != state_->call_id) return nullptr;
  return session;
}

bool Reply::active_slow() const { return in_task() ? live_task() != nullptr : live() != nullptr; }

std::shared_ptr<TaskStore> Reply::live_task() const {
  if (!state_ || !state_->task || state_->task->terminal()) return nullptr;
  return state_->store.lock();
}

void Reply::allow_tasks(std::weak_ptr<TaskStore> store) {
  if (state_) state_->store = std::move(store);
}

bool Reply::tasks_allowed() const {
  return state_ && state_->style.tasks && !state_->task && !state_->store.expired();
}

std::string Reply::create_task(int64_t ttl_ms, int64_t poll_interval_ms) {
  if (!tasks_allowed()) return {};
  auto session = live();
  auto store = state_->store.lock();
  if (!session || !store) return {};
  auto task = store->create(ttl_ms, poll_interval_ms, state_->call_id);
  // SEP-2663 "Task Creation": CreateTaskResult is Result & Task, flat, resultType "task".
  std::string result = R"({"resultType":"task",)";
  encode_task_members(result, *task, false);
  result += '}';
  std::string out;
  encode_result(out, state_->id, result);
  finish(*session, out);
  state_->task = std::move(task);
  return state_->task->id;
}

bool Reply::task_status(std::string_view message) {
  auto store = live_task();
  if (!store) return false;
  state_->task->status_message.assign(message);
  store->touch(*state_->task);
  return true;
}

bool Reply::finish(Session& session, std::string_view message, bool refused) {
  state_->done = true;
  session.in_flight.erase(state_->id);
  auto channel = std::move(state_->channel);
  channel->send(message, true, refused);
  return true;
}

bool Reply::result(std::string_view result_json) {
  if (in_task()) {
    // SEP-2663 "Task Status": a result, even a tool's isError one, completes the task.
    auto store = live_task();
    if (!store) return false;
    Task& task = *state_->task;
    task.status = TaskStatus::kCompleted;
    task.result.assign(result_json);
    task.inputs.clear();
    store->touch(task);
    return true;
  }
  // Every tool call's path: live() and finish() spelled out, so the request is found in the
  // session's in-flight map once, not once to check and once to erase.
  if (!state_ || state_->done || !state_->channel) return false;
  State& st = *state_;
  auto session = st.session.lock();
  if (!session) return false;
  auto it = session->in_flight.find(st.id);
  if (it == session->in_flight.end() || it->second != st.call_id) return false;
  st.done = true;
  session->in_flight.erase(it);
  auto channel = std::move(st.channel);
  if (st.style.modern) {
    std::string shaped = modern_result(result_json, st.style.cacheable);
    std::string out;
    encode_result(out, st.id, shaped);
    channel->send(out, true, false);
    return true;
  }
  // One envelope buffer per thread, reused: channels copy what they keep.
  thread_local std::string out;
  encode_result_over(out, st.id, result_json);
  channel->send(out, true, false);
  return true;
}

bool Reply::error(int code, std::string_view message, std::string_view data_json) {
  if (in_task()) {
    // SEP-2663 "Task Execution Errors": a JSON-RPC error fails the task and is inlined.
    auto store = live_task();
    if (!store) return false;
    Task& task = *state_->task;
    if (code == kResourceNotFound) code = kInvalidParams;  // 2026-07-28 changelog
    std::string err;
    encode_error(err, {}, code, message, data_json);
    // encode_error writes a whole envelope; the task keeps its error object.
    const std::string_view key = R"("error":)";
    std::string_view e(err);
    e = e.substr(e.find(key) + key.size());
    e.remove_suffix(1);  // the envelope's closing brace
    task.status = TaskStatus::kFailed;
    task.error.assign(e);
    task.status_message.assign(message);
    task.inputs.clear();
    store->touch(task);
    return true;
  }
  auto session = live();
  if (!session) return false;
  // 2026-07-28 changelog: resource not found is -32602 (it was -32002).
  if (state_->style.modern && code == kResourceNotFound) code = kInvalidParams;
  std::string out;
  encode_error(out, state_->id, code, message, data_json);
  // 2026-07-28 basic/index.mdx: a missing client capability is refused with HTTP 400.
  return finish(*session, out, state_->style.modern && code == kMissingRequiredClientCapability);
}

bool Reply::progress(double progress, double total, std::string_view message) {
  if (in_task() || !active() || state_->progress_token.empty()) return false;
  std::string params = R"({"progressToken":)";
  params.append(state_->progress_token);
  params.append(R"(,"progress":)");
  append_number(params, progress);
  if (total >= 0) {
    params.append(R"(,"total":)");
    append_number(params, total);
  }
  if (!message.empty()) {
    params.append(R"(,"message":)");
    append_string(params, message);
  }
  params.push_back('}');
  std::string out;
  encode_notification(out, "notifications/progress", params);
  state_->channel->send(out, false, false);
  return true;
}

bool Reply::log(LogLevel level, std::string_view logger, std::string_view data_json) {
  if (in_task() || !active()) return false;
  auto session = state_->session.lock();
  const ReplyStyle& style = state_->style;
  // 2026-07-28: no notifications/message unless the request carried a log level.
  if (style.modern && (!style.has_log_level || level < style.log_level)) return true;
  if (!style.modern && level < session->log_level) return true;  // filtered, not an error
  std::string params = R"({"level":")";
  params.append(log_level_name(level));
  params.push_back('"');
  if (!logger.empty()) {
    params.append(R"(,"logger":)");
    append_string(params, logger);
  }
  params.append(R"(,"data":)");
  params.append(data_json.empty() ? std::string_view("null") : data_json);
  params.push_back('}');
  std::string out;
  encode_notification(out, "notifications/message", params);
  state_->channel->send(out, false, false);
  return true;
}

}  // namespace fa::mcp

namespace fa::mcp {

uint64_t Reply::request(std::string_view method, std::string_view params_json) {
  // Numbers are unique across sessions, so the application can key its waiters by them alone.
  static std::atomic<uint64_t> next{1};
  if (in_task()) {
    // SEP-2663 "Task Update Requests": the request waits in the task's inputRequests (the task
    // is input_required) until tasks/update answers its key.
    auto store = live_task();
    if (!store) return 0;
    const uint64_t number = next.fetch_add(1, std::memory_order_relaxed);
    Task::Input input;
    input.key = std::string(method.substr(0, method.find('/'))) + "-" + std::to_string(number);
    input.number = number;
    input.request = R"({"method":)";
    append_string(input.request, method);
    input.request += R"(,"params":)";
    input.request += params_json.empty() ? std::string_view("{}") : params_json;
    input.request += '}';
    Task& task = *state_->task;
    task.inputs.push_back(std::move(input));
    task.status = TaskStatus::kInputRequired;
    store->touch(task);
    return number;
  }
  if (!active()) return 0;
  auto session = state_->session.lock();
  const uint64_t number = next.fetch_add(1, std::memory_order_relaxed);
  std::string id = std::to_string(number);
  session->outgoing.emplace(id, number);
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += id;
  out += R"(,"method":)";
  append_string(out, method);
  if (!params_json.empty()) {
    out += R"(,"params":)";
    out += params_json;
  }
  out.push_back('}');
  state_->channel->send(out, false, false);
  return number;
}

void Reply::close_stream() {
  if (!in_task() && active()) state_->channel->close_stream();
}

std::string_view Reply::auth_claims() const {
  if (!state_) return {};
  auto session = state_->session.lock();
  return session ? std::string_view(session->auth_claims) : std::string_view();
}

std::string_view Reply::client_capabilities() const {
  if (!state_) return {};
  auto session = state_->session.lock();
  return session ? std::string_view(session->client_capabilities) : std::string_view();
}

}  // namespace fa::mcp
