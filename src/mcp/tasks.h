// The tasks extension (io.modelcontextprotocol/tasks, SEP-2663, 2026-07-28): a tools/call the
// server chooses to run asynchronously answers a CreateTaskResult at once; the client polls
// tasks/get, answers the task's inputRequests with tasks/update and may tasks/cancel it. This
// is the store of tasks and their wire shapes; ServerCore serves the methods, Reply fills a task
// in (mcp/reply.h). No I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fa::mcp {

// The extension's identifier: a key of capabilities.extensions (SEP-2663 "Extension Identifier").
inline constexpr std::string_view kTasksExtension = "io.modelcontextprotocol/tasks";

// SEP-2663 "Task Status"; the last three are terminal.
enum class TaskStatus : uint8_t { kWorking, kInputRequired, kCompleted, kFailed, kCancelled };
std::string_view task_status_name(TaskStatus status);

struct Task {
  // A server-to-client request the task waits on (SEP-2663 "Task Update Requests").
  struct Input {
    std::string key;      // the inputRequests key, unique over the task's lifetime
    uint64_t number = 0;  // what Application::response() names when it is answered
    std::string request;  // raw JSON {"method":...,"params":...}
  };

  std::string id;  // 128 random bits as hex: unguessable (SEP-2663 "Security Implications")
  TaskStatus status = TaskStatus::kWorking;
  std::string status_message;
  int64_t created_ms = 0, updated_ms = 0;  // Unix time in milliseconds
  int64_t ttl_ms = 0;                      // 0: unlimited (ttlMs null)
  int64_t poll_interval_ms = 0;            // 0: not suggested
  std::string result;                      // kCompleted: the raw JSON result
  std::string error;                       // kFailed: the raw JSON-RPC error object
  std::vector<Input> inputs;               // outstanding inputRequests, in the order asked
  uint64_t call_id = 0;                    // the application's call, for tasks/cancel

  bool terminal() const { return status >= TaskStatus::kCompleted; }
};

class TaskStore {
 public:
  // Tasks kept at most; past it the finished task updated longest ago makes room (a server
  // with no TTL must not grow without bound). Running tasks are never dropped.
  static constexpr size_t kDefaultMaxTasks = 10000;

  // Called on every change of a task's state (status notifications).
  using Listener = std::function<void(const Task&)>;

  // Creates a working task for call `call_id`; it is found by tasks/get from this point on
  // (SEP-2663 "Task Creation": durably created before the CreateTaskResult is sent).
  std::shared_ptr<Task> create(int64_t ttl_ms, int64_t poll_interval_ms, uint64_t call_id);
  // The task, or null when unknown or past its TTL (expired tasks are purged here).
  std::shared_ptr<Task> find(std::string_view id);
  // Marks `task` changed now (lastUpdatedAt) and tells the listener.
  void touch(Task& task);
  void set_listener(Listener listener) { listener_ = std::move(listener); }
  void set_max_tasks(size_t n) { max_tasks_ = n ? n : 1; }
  size_t size() const { return tasks_.size(); }

 private:
  void purge(int64_t now_ms);
  void make_room();
  size_t max_tasks_ = kDefaultMaxTasks;
  std::unordered_map<std::string, std::shared_ptr<Task>> tasks_;
  int64_t next_purge_ms_ = 0;
  Listener listener_;
};

// Milliseconds since the Unix epoch, from the system clock.
int64_t unix_ms();
// "2026-07-28T10:30:00.123Z" (ISO 8601, UTC).
std::string iso8601(int64_t unix_ms);

// Appends the members of a Task (no braces): taskId, status, statusMessage, createdAt,
// lastUpdatedAt, ttlMs, pollIntervalMs; with `detailed` also the status's payload —
// inputRequests, result or error (SEP-2663 DetailedTask).
void encode_task_members(std::string& out, const Task& task, bool detailed);

}  // namespace fa::mcp
