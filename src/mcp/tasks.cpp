// Task store and the Task wire shapes of SEP-2663.
#include "mcp/tasks.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "mcp/jsonrpc.h"
#include "mcp/random_id.h"

namespace fa::mcp {

namespace {

// Expired tasks are looked for at most this often (each sweep walks every task).
constexpr int64_t kPurgeIntervalMs = 1000;

}  // namespace

std::string_view task_status_name(TaskStatus status) {
  switch (status) {
    case TaskStatus::kWorking:
      return "working";
    case TaskStatus::kInputRequired:
      return "input_required";
    case TaskStatus::kCompleted:
      return "completed";
    case TaskStatus::kFailed:
      return "failed";
    case TaskStatus::kCancelled:
      return "cancelled";
  }
  return "working";
}

int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso8601(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        static_cast<int>(ms % 1000));
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

std::shared_ptr<Task> TaskStore::create(int64_t ttl_ms, int64_t poll_interval_ms,
                                        uint64_t call_id) {
  const int64_t now = unix_ms();
  purge(now);
  if (tasks_.size() >= max_tasks_) make_room();
  auto task = std::make_shared<Task>();
  task->id = random_hex_id();
  task->created_ms = task->updated_ms = now;
  task->ttl_ms = ttl_ms > 0 ? ttl_ms : 0;
  task->poll_interval_ms = poll_interval_ms > 0 ? poll_interval_ms : 0;
  task->call_id = call_id;
  tasks_.emplace(task->id, task);
  return task;
}

std::shared_ptr<Task> TaskStore::find(std::string_view id) {
  const int64_t now = unix_ms();
  purge(now);
  auto it = tasks_.find(std::string(id));
  if (it == tasks_.end()) return nullptr;
  const Task& t = *it->second;
  if (t.ttl_ms > 0 && now >= t.created_ms + t.ttl_ms) return nullptr;  // purged on the next sweep
  return it->second;
}

void TaskStore::touch(Task& task) {
  task.updated_ms = unix_ms();
  if (listener_) listener_(task);
}

void TaskStore::purge(int64_t now) {
  // SEP-2663 "Task Polling": the server may discard a task once its TTL (from creation) elapsed.
  if (now < next_purge_ms_) return;
  next_purge_ms_ = now + kPurgeIntervalMs;
  std::erase_if(tasks_, [now](const auto& entry) {
    const Task& t = *entry.second;
    return t.ttl_ms > 0 && now >= t.created_ms + t.ttl_ms;
  });
}

void TaskStore::make_room() {
  auto oldest = tasks_.end();
  for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
    if (!it->second->terminal()) continue;
    if (oldest == tasks_.end() || it->second->updated_ms < oldest->second->updated_ms) oldest = it;
  }
  if (oldest != tasks_.end()) tasks_.erase(oldest);
}

void encode_task_members(std::string& out, const Task& task, bool detailed) {
  out += R"("taskId":)";
  append_string(out, task.id);
  out += R"(,"status":")";
  out += task_status_name(task.status);
  out += '"';
  if (!task.status_message.empty()) {
    out += R"(,"statusMessage":)";
    append_string(out, task.status_message);
  }
  out += R"(,"createdAt":")";
  out += iso8601(task.created_ms);
  out += R"(","lastUpdatedAt":")";
  out += iso8601(task.updated_ms);
  out += R"(","ttlMs":)";
  out += task.ttl_ms > 0 ? std::to_string(task.ttl_ms) : std::string("null");
  if (task.poll_interval_ms > 0) {
    out += R"(,"pollIntervalMs":)";
    out += std::to_string(task.poll_interval_ms);
  }
  if (!detailed) return;
  if (task.status == TaskStatus::kInputRequired) {
    out += R"(,"inputRequests":{)";
    for (size_t i = 0; i < task.inputs.size(); ++i) {
      if (i) out += ',';
      append_string(out, task.inputs[i].key);
      out += ':';
      out += task.inputs[i].request;
    }
    out += '}';
  } else if (task.status == TaskStatus::kCompleted) {
    out += R"(,"result":)";
    out += task.result.empty() ? std::string_view("{}") : std::string_view(task.result);
  } else if (task.status == TaskStatus::kFailed) {
    out += R"(,"error":)";
    out += task.error.empty() ? std::string_view(R"({"code":-32603,"message":"Internal error"})")
                              : std::string_view(task.error);
  }
}

}  // namespace fa::mcp
