// The tasks extension in the core (SEP-2663; src/mcp/tasks.h, Reply::create_task, ServerCore's
// tasks/get, tasks/update, tasks/cancel): creation, polling, input requests, cancellation,
// gating on the declared extension, TTL expiry, status notifications.
#include <gtest/gtest.h>

#include <optional>
#include <thread>
#include <vector>

#include "mcp/server_core.h"

namespace fa::mcp {
namespace {

struct Recorder : Channel {
  std::vector<std::string> sent;
  std::vector<bool> refused;
  void send(std::string_view message, bool, bool r) override {
    sent.emplace_back(message);
    refused.push_back(r);
  }
  std::string last() const { return sent.empty() ? "" : sent.back(); }
};

struct App : Application {
  std::optional<Reply> held;
  std::vector<uint64_t> cancelled;
  std::vector<std::pair<uint64_t, std::string>> responses;
  int64_t ttl_ms = 60000;
  void call(const Call&, Reply reply) override {
    held = reply;
    if (reply.tasks_allowed()) reply.create_task(ttl_ms, 500);
  }
  void cancel(uint64_t call_id) override { cancelled.push_back(call_id); }
  void response(uint64_t number, bool, std::string_view json) override {
    responses.emplace_back(number, std::string(json));
  }
};

constexpr std::string_view kTasksCaps =
    R"("io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}})";
constexpr std::string_view kPlainCaps = R"("io.modelcontextprotocol/clientCapabilities":{})";

std::string request(int id, std::string_view method, std::string_view params, bool tasks = true) {
  std::string meta = R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)";
  meta += tasks ? kTasksCaps : kPlainCaps;
  meta += "}";
  std::string p = params.empty() ? "{" + meta + "}" : "{" + std::string(params) + "," + meta + "}";
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + std::string(method) +
         R"(","params":)" + p + "}";
}

bool has(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// The value of "taskId" in a message.
std::string task_id_of(const std::string& s) {
  const std::string key = R"("taskId":")";
  size_t at = s.find(key);
  if (at == std::string::npos) return {};
  at += key.size();
  return s.substr(at, s.find('"', at) - at);
}

struct Tasks : ::testing::Test {
  App app;
  ServerCore core{app, ServerInfo{"s", "1", "", ""}};
  std::shared_ptr<Session> session = std::make_shared<Session>();
  std::shared_ptr<Recorder> out = std::make_shared<Recorder>();
  Outcome send(const std::string& text) { return core.handle(session, text, out); }
  void SetUp() override {
    core.add_tool("job", R"({"name":"job"})");
    core.set_tasks(true);
  }
  std::string start() {
    EXPECT_EQ(send(request(2, "tools/call", R"("name":"job","arguments":{})")), Outcome::kAnswered);
    return task_id_of(out->last());
  }
};

TEST_F(Tasks, DiscoverAdvertisesTheExtensionOnlyWhenServed) {
  send(request(1, "server/discover", ""));
  EXPECT_TRUE(has(out->last(), R"("extensions":{"io.modelcontextprotocol/tasks":{}})"))
      << out->last();
  core.set_tasks(false);
  send(request(1, "server/discover", ""));
  EXPECT_FALSE(has(out->last(), "extensions")) << out->last();
}

TEST_F(Tasks, ACallBecomesATaskThatCompletes) {
  std::string id = start();
  ASSERT_EQ(id.size(), 32u) << out->last();
  const std::string created = out->last();
  EXPECT_TRUE(has(created, R"("result":{"resultType":"task","taskId":")")) << created;
  EXPECT_TRUE(has(created, R"("status":"working")"));
  EXPECT_TRUE(has(created, R"("ttlMs":60000,"pollIntervalMs":500)"));
  EXPECT_TRUE(has(created, R"("createdAt":"20)"));
  EXPECT_FALSE(has(created, R"("result":{"resultType":"task","taskId":")" + id +
                                R"(","status":"working","result")"));
  // Found at once (durable creation), working, no payload yet.
  send(request(3, "tasks/get", R"("taskId":")" + id + '"'));
  EXPECT_TRUE(has(out->last(), R"("result":{"resultType":"complete","taskId":")" + id +
                                   R"(","status":"working")"))
      << out->last();
  EXPECT_FALSE(has(out->last(), R"("result":{"content")"));
  // The application answers through its reply: the task completes with the result inlined.
  ASSERT_TRUE(app.held->in_task());
  EXPECT_FALSE(app.held->progress(1, 2, "")) << "no progress on tasks";
  EXPECT_TRUE(app.held->result(R"({"content":[{"type":"text","text":"ok"}],"isError":false})"));
  EXPECT_FALSE(app.held->active());
  EXPECT_FALSE(app.held->result("{}")) << "a finished task does not change";
  send(request(4, "tasks/get", R"("taskId":")" + id + '"'));
  EXPECT_TRUE(has(out->last(), R"("status":"completed")")) << out->last();
  EXPECT_TRUE(
      has(out->last(), R"("result":{"content":[{"type":"text","text":"ok"}],"isError":false}})"));
}

TEST_F(Tasks, AnErrorFailsTheTaskWithTheErrorInlined) {
  std::string id = start();
  EXPECT_TRUE(app.held->error(kInternalError, "boom"));
  send(request(3, "tasks/get", R"("taskId":")" + id + '"'));
  EXPECT_TRUE(has(out->last(), R"("status":"failed","statusMessage":"boom")")) << out->last();
  EXPECT_TRUE(has(out->last(), R"("error":{"code":-32603,"message":"boom"}})")) << out->last();
}

TEST_F(Tasks, InputRequestsAreAnsweredByTasksUpdateOneAtATime) {
  std::string id = start();
  uint64_t a = app.held->request("elicitation/create", R"({"message":"a?"})");
  uint64_t b = app.held->request("elicitation/create", R"({"message":"b?"})");
  ASSERT_TRUE(a && b);
  send(request(3, "tasks/get", R"("taskId":")" + id + '"'));
  const std::string key_a = "elicitation-" + std::to_string(a),
                    key_b = "elicitation-" + std::to_string(b);
  EXPECT_TRUE(has(out->last(), R"("status":"input_required")")) << out->last();
  EXPECT_TRUE(has(out->last(),
                  R"("inputRequests":{")" + key_a +
                      R"(":{"method":"elicitation/create","params":{"message":"a?"}},")" + key_b))
      << out->last();
  // One answer, plus a key that was never issued (ignored): acknowledged, still input_required.
  send(request(4, "tasks/update",
               R"("taskId":")" + id + R"(","inputResponses":{")" + key_a +
                   R"(":{"action":"accept","content":{"x":1}},"nope":{}})"));
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":4,"result":{"resultType":"complete"}})");
  ASSERT_EQ(app.responses.size(), 1u);
  EXPECT_EQ(app.responses[0],
            std::make_pair(a, std::string(R"({"action":"accept","content":{"x":1}})")));
  send(request(5, "tasks/get", R"("taskId":")" + id + '"'));
  EXPECT_TRUE(has(out->last(), R"("status":"input_required")"));
  EXPECT_FALSE(has(out->last(), key_a));
  EXPECT_TRUE(has(out->last(), key_b));
  // The same key again is ignored; the last one makes the task work again.
  send(request(6, "tasks/update",
               R"("taskId":")" + id + R"(","inputResponses":{")" + key_a + R"(":{}})"));
  EXPECT_EQ(app.responses.size(), 1u);
  send(request(7, "tasks/update",
               R"("taskId":")" + id + R"(","inputResponses":{")" + key_b + R"(":{}})"));
  EXPECT_EQ(app.responses.size(), 2u);
  send(request(8, "tasks/get", R"("taskId":")" + id + '"'));
  EXPECT_TRUE(has(out->last(), R"("status":"working")")) << out->last();
  EXPECT_FALSE(has(out->last(), "inputRequests"));
  // inputResponses must be an object.
  send(request(9, "tasks/update", R"("taskId":")" + id + R"(","inputResponses":[1])"));
  EXPECT_TRUE(has(out->last(), R"("code":-32602)")) << out->last();
}

TEST_F(Tasks, CancelIsAnAckAndIdempotent) {
  std::string id = start();
  const uint64_t call_id = app.held->call_id();
  send(request(3, "tasks/cancel", R"("taskId":")" + id + '"'));
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":3,"result":{"resultType":"complete"}})");
  EXPECT_EQ(app.cancelled, std::vector<uint64_t>{call_id});
  EXPECT_FALSE(app.held->result("{}")) << "the cancelled task keeps its status";
  send(request(4, "tasks/get", R"("taskId":")" + id + '"'));
  EXPECT_TRUE(has(out->last(), R"("status":"cancelled")")) << out->last();
  send(request(5, "tasks/cancel", R"("taskId":")" + id + '"'));
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":5,"result":{"resultType":"complete"}})");
  EXPECT_EQ(app.cancelled.size(), 1u);
}

TEST_F(Tasks, UnknownIdsAndUndeclaredClientsAreRefused) {
  start();
  for (std::string_view m : {"tasks/get", "tasks/update", "tasks/cancel"}) {
    send(request(3, m, R"("taskId":"nope","inputResponses":{})"));
    EXPECT_TRUE(has(out->last(), R"("code":-32602)")) << m << out->last();
    send(request(4, m, R"("taskId":"nope","inputResponses":{})", false));
    EXPECT_TRUE(has(out->last(), R"("code":-32021)")) << m << out->last();
    EXPECT_TRUE(has(
        out->last(),
        R"("data":{"requiredCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}})"));
    EXPECT_TRUE(out->refused.back());
  }
  send(request(5, "tasks/get", R"("taskId":7)"));
  EXPECT_TRUE(has(out->last(), R"("code":-32602)"));
  // Removed in SEP-2663, and not served at all to 2025-11-25 sessions.
  send(request(6, "tasks/result", R"("taskId":"x")"));
  EXPECT_TRUE(has(out->last(), R"("code":-32601)")) << out->last();
  send(request(7, "tasks/list", ""));
  EXPECT_TRUE(has(out->last(), R"("code":-32601)"));
}

TEST_F(Tasks, ACallWithoutTheExtensionIsNotATask) {
  send(request(2, "tools/call", R"("name":"job","arguments":{})", false));
  EXPECT_FALSE(app.held->tasks_allowed());
  EXPECT_EQ(app.held->create_task(1000, 0), "");
  EXPECT_TRUE(app.held->result(R"({"content":[]})"));
  EXPECT_TRUE(has(out->last(), R"("result":{"resultType":"complete","content":[]})"))
      << out->last();
}

TEST_F(Tasks, ExpiredTasksAreGone) {
  app.ttl_ms = 1;
  std::string id = start();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  send(request(3, "tasks/get", R"("taskId":")" + id + '"'));
  EXPECT_TRUE(has(out->last(), R"("code":-32602)")) << out->last();
}

TEST(TaskStoreTest, BoundedByDroppingTheOldestFinishedTask) {
  TaskStore store;
  store.set_max_tasks(2);
  auto running = store.create(0, 0, 1);
  auto done = store.create(0, 0, 2);
  done->status = TaskStatus::kCompleted;
  auto third = store.create(0, 0, 3);  // full: the finished one makes room
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.find(running->id));
  EXPECT_FALSE(store.find(done->id));
  EXPECT_TRUE(store.find(third->id));
  // Only running tasks left: none is dropped (the store grows past its bound rather than
  // losing work a client is polling for).
  store.create(0, 0, 4);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601(1785234600123), "2026-07-28T10:30:00.123Z");
}

TEST_F(Tasks, StatusNotificationsReachTheListenersThatAskedForTheTask) {
  std::string id = start();
  auto stream = std::make_shared<Recorder>();
  ASSERT_EQ(core.handle(session,
                        request(9, "subscriptions/listen",
                                R"("notifications":{"taskIds":[")" + id + R"(","unknown"]})"),
                        stream),
            Outcome::kPending);
  EXPECT_TRUE(has(stream->last(), R"("notifications":{"taskIds":[")" + id + R"("]})"))
      << stream->last();
  app.held->task_status("halfway");
  EXPECT_TRUE(has(stream->last(), R"("method":"notifications/tasks")")) << stream->last();
  EXPECT_TRUE(has(stream->last(), R"("statusMessage":"halfway")"));
  app.held->result(R"({"content":[]})");
  EXPECT_TRUE(has(stream->last(), R"("status":"completed")")) << stream->last();
  EXPECT_TRUE(has(stream->last(), R"("result":{"content":[]})"));
  // Without the extension declared, asking for task notifications is refused.
  auto other = std::make_shared<Recorder>();
  core.handle(session,
              request(10, "subscriptions/listen", R"("notifications":{"taskIds":["x"]})", false),
              other);
  EXPECT_TRUE(has(other->last(), R"("code":-32021)")) << other->last();
}

}  // namespace
}  // namespace fa::mcp
