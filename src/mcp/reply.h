// Reply: answers one request later, from any callback on the loop — the result, an error, and
// the notifications tied to it (progress, log messages). Cheap to copy (shared state).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mcp/channel.h"
#include "mcp/session.h"
#include "mcp/tasks.h"

namespace fa::mcp {

// How a request's answers are shaped, by the revision it was sent under.
struct ReplyStyle {
  bool modern = false;     // 2026-07-28: results carry resultType; logs need a per-request level
  bool cacheable = false;  // 2026-07-28 CacheableResult (resources/read): ttlMs and cacheScope
  bool has_log_level = false;
  LogLevel log_level = LogLevel::kDebug;  // the request's io.modelcontextprotocol/logLevel
  bool tasks = false;  // 2026-07-28 tools/call that declared the tasks extension (SEP-2663)
};

class Reply {
 public:
  struct State;
  Reply() = default;
  Reply(std::weak_ptr<Session> session, std::shared_ptr<Channel> channel, std::string id,
        std::string progress_token, uint64_t call_id, ReplyStyle style = {},
        std::string params = {});
  // The same, reusing `cache`'s state when no other Reply holds it any more (a call answered
  // synchronously): the per-call hot path then allocates nothing. The state moves from `cache`
  // into this Reply; recycle(cache) returns it once the call was made.
  Reply(std::shared_ptr<State>& cache, const std::shared_ptr<Session>& session,
        const std::shared_ptr<Channel>& channel, std::string_view id, std::string_view progress_token,
        uint64_t call_id, ReplyStyle style, std::string_view params);

  // Each returns false and sends nothing once the request was answered or cancelled, or its
  // session or channel is gone.
  bool result(std::string_view result_json);
  bool error(int code, std::string_view message, std::string_view data_json = {});
  // notifications/progress (server/utilities/progress.mdx); only when the request carried a
  // progressToken. A negative total means none.
  bool progress(double progress, double total, std::string_view message);
  // notifications/message (server/utilities/logging.mdx), if `level` passes the session's level.
  bool log(LogLevel level, std::string_view logger, std::string_view data_json);
  // Sends the client a request tied to this one (sampling/createMessage, elicitation/create,
  // roots/list: 2025-11-25 client/*.mdx) on the same channel, so an HTTP client gets it on the
  // POST's SSE stream. Returns its number (> 0), which Application::response() names when the
  // client answers; 0 when nothing was sent.
  uint64_t request(std::string_view method, std::string_view params_json);
  // Closes the request's SSE stream for the client to resume (see Channel::close_stream).
  void close_stream();
  // The client's capabilities from initialize (raw JSON), empty when unknown.
  std::string_view client_capabilities() const;
  // 2026-07-28 requests: the request's raw params (inputResponses, requestState and _meta are
  // the application's to read); empty for earlier revisions.
  std::string_view params() const { return state_ ? std::string_view(state_->params) : std::string_view(); }
  bool modern() const { return state_ && state_->style.modern; }
  // With bearer authorization on HTTP: the verified token's claims (JSON); empty otherwise.
  std::string_view auth_claims() const;

  // SEP-2663 tasks. True when this request may be answered with a task: a 2026-07-28 tools/call
  // that declared the io.modelcontextprotocol/tasks extension, on a server that serves it.
  bool tasks_allowed() const;
  // Answers the request with a CreateTaskResult now. From then on result(), error() and
  // request() fill the task in instead (its result, its JSON-RPC error, its inputRequests);
  // progress and log messages are dropped (SEP-2663 carries neither for tasks). Returns the
  // task id; empty when tasks are not allowed or the request was answered already.
  std::string create_task(int64_t ttl_ms, int64_t poll_interval_ms);
  bool in_task() const { return state_ && state_->task; }
  std::string_view task_id() const { return in_task() ? std::string_view(state_->task->id) : std::string_view(); }
  // The task's statusMessage (and lastUpdatedAt); false outside a task or once it ended.
  bool task_status(std::string_view message);
  // Lets this request become a task (ServerCore, for requests that declared the extension).
  void allow_tasks(std::weak_ptr<TaskStore> store);

  // Inline for the usual end of a call, answered already: no out-of-line call, no session lookup.
  bool active() const {
    if (state_ && state_->done && !state_->task) return false;
    return active_slow();
  }
  // Gives this reply's state back to `cache` (the constructor that reuses one took it) when
  // `cache` holds none; this Reply is empty afterwards.
  void recycle(std::shared_ptr<State>& cache) {
    if (!cache) cache = std::move(state_);
  }
  uint64_t call_id() const { return state_ ? state_->call_id : 0; }
  std::string_view id() const { return state_ ? std::string_view(state_->id) : std::string_view(); }

 public:
  // Shared by the copies of one Reply (public for ServerCore's cache; opaque to others).
  struct State {
    std::weak_ptr<Session> session;
    std::shared_ptr<Channel> channel;
    std::string id;              // raw JSON token
    std::string progress_token;  // raw JSON token or empty
    uint64_t call_id = 0;
    bool done = false;
    ReplyStyle style;
    std::string params;
    std::weak_ptr<TaskStore> store;  // set when the request may become a task
    std::shared_ptr<Task> task;      // set once it did
  };

 private:
  // The session, while this reply may still answer (not answered, not cancelled); else null.
  std::shared_ptr<Session> live() const;
  bool active_slow() const;
  bool finish(Session& session, std::string_view message, bool refused = false);
  // The store while this reply fills in a task that has not ended; else null.
  std::shared_ptr<TaskStore> live_task() const;
  std::shared_ptr<State> state_;
};

// Inserts the 2026-07-28 result members ("resultType":"complete", and for cacheable results
// "ttlMs" and "cacheScope") at the front of the result object `json`.
std::string modern_result(std::string_view json, bool cacheable);

}  // namespace fa::mcp
