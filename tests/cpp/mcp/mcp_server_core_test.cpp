// MCP method dispatch (src/mcp/server_core.h) against a recording Application and Channel.
#include "mcp/server_core.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace fa::mcp {
namespace {

struct Recorder : Channel {
  struct Sent {
    std::string message;
    bool final;
    bool refused;
  };
  std::vector<Sent> sent;
  void send(std::string_view message, bool final, bool refused) override {
    sent.push_back({std::string(message), final, refused});
  }
  std::string last() const { return sent.empty() ? "" : sent.back().message; }
};

struct FakeApp : Application {
  std::vector<Call> calls;
  std::vector<std::string> names, arguments;
  std::vector<uint64_t> cancelled;
  std::optional<Reply> held;
  bool answer_now = true;
  void call(const Call& c, Reply reply) override {
    calls.push_back(c);
    names.emplace_back(c.name);
    arguments.emplace_back(c.arguments);
    if (answer_now)
      reply.result(R"({"content":[{"type":"text","text":"ok"}],"isError":false})");
    else
      held = reply;
  }
  void cancel(uint64_t call_id) override { cancelled.push_back(call_id); }
};

struct Fixture : ::testing::Test {
  FakeApp app;
  ServerCore core{app, ServerInfo{"My Tools", "1.0.0", "", "Be nice"}};
  std::shared_ptr<Session> session = std::make_shared<Session>();
  std::shared_ptr<Recorder> out = std::make_shared<Recorder>();
  Outcome send(std::string_view text) { return core.handle(session, text, out); }
};

using McpServerCore = Fixture;

TEST_F(McpServerCore, InitializeNegotiatesVersion) {
  EXPECT_EQ(send(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}})"),
            Outcome::kAnswered);
  auto r = out->last();
  EXPECT_NE(r.find(R"("protocolVersion":"2025-06-18")"), std::string::npos) << r;
  EXPECT_NE(r.find(R"("serverInfo":{"name":"My Tools","version":"1.0.0"})"), std::string::npos) << r;
  EXPECT_NE(r.find(R"("instructions":"Be nice")"), std::string::npos) << r;
  send(R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"1999-01-01"}})");
  EXPECT_NE(out->last().find(R"("protocolVersion":"2025-11-25")"), std::string::npos);
  EXPECT_EQ(send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"), Outcome::kNoReply);
  EXPECT_TRUE(session->initialized);
}

TEST_F(McpServerCore, PingAndUnknownMethod) {
  send(R"({"jsonrpc":"2.0","id":"p","method":"ping"})");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":"p","result":{}})");
  send(R"({"jsonrpc":"2.0","id":3,"method":"nope"})");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found","data":"nope"}})");
}

TEST_F(McpServerCore, ParseErrorsAreAnsweredWithNullId) {
  send("{oops");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})");
  EXPECT_TRUE(out->sent.back().refused);
}

TEST_F(McpServerCore, ToolsListPaginates) {
  for (int i = 0; i < 5; ++i) core.add_tool("t" + std::to_string(i), R"({"name":"t)" + std::to_string(i) + "\"}");
  core.set_page_size(2);
  send(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"t0"},{"name":"t1"}],"nextCursor":"2"}})");
  send(R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"4"}})");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"t4"}]}})");
  send(R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"zz"}})");
  EXPECT_NE(out->last().find("-32602"), std::string::npos);
}

TEST_F(McpServerCore, ToolCallUpcallsWithNameAndArguments) {
  int idx = core.add_tool("calculate", R"({"name":"calculate"})");
  EXPECT_EQ(send(R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"calculate","arguments":{"a":1,"b":2}}})"),
            Outcome::kAnswered);
  ASSERT_EQ(app.calls.size(), 1u);
  EXPECT_EQ(app.calls[0].index, idx);
  EXPECT_EQ(app.names[0], "calculate");
  EXPECT_EQ(app.arguments[0], R"({"a":1,"b":2})");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"ok"}],"isError":false}})");
}

TEST_F(McpServerCore, UnknownToolAndBadArgumentsAreInvalidParams) {
  core.add_tool("t", "{}");
  send(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"zz"}})");
  EXPECT_NE(out->last().find(R"("code":-32602,"message":"Unknown tool: zz")"), std::string::npos);
  send(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","arguments":[1]}})");
  EXPECT_NE(out->last().find("-32602"), std::string::npos);
  send(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"arguments":{}}})");
  EXPECT_NE(out->last().find("-32602"), std::string::npos);
  EXPECT_TRUE(app.calls.empty());
}

TEST_F(McpServerCore, LateReplyProgressLogAndCancel) {
  core.add_tool("slow", "{}");
  app.answer_now = false;
  EXPECT_EQ(send(R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow","_meta":{"progressToken":"tok"}}})"),
            Outcome::kPending);
  ASSERT_TRUE(app.held);
  EXPECT_TRUE(app.held->progress(1, 4, "a quarter"));
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok","progress":1,"total":4,"message":"a quarter"}})");
  EXPECT_FALSE(out->sent.back().final);
  send(R"({"jsonrpc":"2.0","id":6,"method":"logging/setLevel","params":{"level":"warning"}})");
  size_t before = out->sent.size();
  EXPECT_TRUE(app.held->log(LogLevel::kInfo, "", "\"quiet\""));
  EXPECT_EQ(out->sent.size(), before);  // below the level
  app.held->log(LogLevel::kError, "db", R"({"x":1})");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"error","logger":"db","data":{"x":1}}})");
  send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"bored"}})");
  ASSERT_EQ(app.cancelled.size(), 1u);
  EXPECT_EQ(app.cancelled[0], app.held->call_id());
  before = out->sent.size();
  EXPECT_FALSE(app.held->result("{}"));  // no response after cancellation
  EXPECT_EQ(out->sent.size(), before);
}

// The reply state is reused call after call while nobody else holds it: a reply held by the
// application (pending) must keep its own id and state while later calls are answered at once.
TEST_F(McpServerCore, HeldRepliesKeepTheirStateWhileLaterCallsReuseOne) {
  core.add_tool("t", "{}");
  auto call = [&](std::string_view id) {
    return send(R"({"jsonrpc":"2.0","id":)" + std::string(id) +
                R"(,"method":"tools/call","params":{"name":"t"}})");
  };
  EXPECT_EQ(call("1"), Outcome::kAnswered);
  EXPECT_EQ(
      out->last(),
      R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}],"isError":false}})");
  app.answer_now = false;
  EXPECT_EQ(call(R"("a")"), Outcome::kPending);
  ASSERT_TRUE(app.held);
  Reply first = *app.held;
  EXPECT_EQ(call(R"("b")"), Outcome::kPending);
  Reply second = *app.held;
  app.answer_now = true;
  EXPECT_EQ(call("2"), Outcome::kAnswered);
  EXPECT_EQ(
      out->last(),
      R"({"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"ok"}],"isError":false}})");
  EXPECT_EQ(session->in_flight.size(), 2u);
  // Answered out of order, each with its own id, once.
  EXPECT_TRUE(second.result(R"({"n":2})"));
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":"b","result":{"n":2}})");
  EXPECT_TRUE(first.result(R"({"n":1})"));
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":"a","result":{"n":1}})");
  EXPECT_FALSE(first.result("{}"));
  EXPECT_TRUE(session->in_flight.empty());
  EXPECT_EQ(call("3"), Outcome::kAnswered);
  EXPECT_EQ(
      out->last(),
      R"({"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"ok"}],"isError":false}})");
}

// Tool names are found by their every byte: long names that share their first and last eight
// bytes and their length are different tools.
TEST_F(McpServerCore, ToolNamesDifferingInTheMiddleAreDistinct) {
  std::vector<int> idx;
  for (int i = 0; i < 50; ++i)
    idx.push_back(core.add_tool("prefix__" + std::to_string(1000 + i) + "__suffix", "{}"));
  for (int i = 0; i < 50; ++i) {
    std::string name = "prefix__" + std::to_string(1000 + i) + "__suffix";
    EXPECT_EQ(send(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":")" + name +
                   R"("}})"),
              Outcome::kAnswered);
    ASSERT_EQ(app.calls.size(), static_cast<size_t>(i + 1));
    EXPECT_EQ(app.calls.back().index, idx[static_cast<size_t>(i)]);
    EXPECT_EQ(app.names.back(), name);
  }
  send(
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"prefix__0999__suffix"}})");
  EXPECT_NE(out->last().find("Unknown tool"), std::string::npos);
}

TEST_F(McpServerCore, ResourcesAndTemplates) {
  int idx = core.add_resource("config://settings", R"({"uri":"config://settings","name":"s"})");
  core.add_resource_template(R"({"uriTemplate":"users://{id}/profile","name":"p"})");
  send(R"({"jsonrpc":"2.0","id":1,"method":"resources/list"})");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"config://settings","name":"s"}]}})");
  send(R"({"jsonrpc":"2.0","id":2,"method":"resources/templates/list"})");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":2,"result":{"resourceTemplates":[{"uriTemplate":"users://{id}/profile","name":"p"}]}})");
  send(R"({"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"config://settings"}})");
  ASSERT_EQ(app.calls.size(), 1u);
  EXPECT_EQ(app.calls[0].index, idx);
  send(R"({"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"users://7/profile"}})");
  EXPECT_EQ(app.calls[1].index, -1);
  EXPECT_EQ(app.names[1], "users://7/profile");
}

TEST_F(McpServerCore, EndSessionCancelsInFlight) {
  core.add_tool("slow", "{}");
  app.answer_now = false;
  send(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}})");
  core.end_session(*session);
  EXPECT_EQ(app.cancelled.size(), 1u);
  EXPECT_FALSE(app.held->active());
}

}  // namespace
}  // namespace fa::mcp

namespace fa::mcp {
namespace {

constexpr std::string_view kModernMeta =
    R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"})";

TEST_F(McpServerCore, DiscoverAdvertisesTheModernRevision) {
  send(R"({"jsonrpc":"2.0","id":"d","method":"server/discover","params":{)" + std::string(kModernMeta) + "}}");
  auto r = out->last();
  EXPECT_NE(r.find(R"("result":{"resultType":"complete","ttlMs":0,"cacheScope":"private","supportedVersions":["2026-07-28"])"),
            std::string::npos) << r;
  EXPECT_NE(r.find(R"("io.modelcontextprotocol/serverInfo":{"name":"My Tools","version":"1.0.0"})"), std::string::npos) << r;
}

TEST_F(McpServerCore, ModernRequestsGetResultTypeWithoutInitialize) {
  core.add_tool("t", R"({"name":"t"})");
  send(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{)" + std::string(kModernMeta) + "}}");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","ttlMs":0,"cacheScope":"private","tools":[{"name":"t"}]}})");
  send(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t",)" + std::string(kModernMeta) + "}}");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":2,"result":{"resultType":"complete","content":[{"type":"text","text":"ok"}],"isError":false}})");
  send(R"({"jsonrpc":"2.0","id":3,"method":"tools/list"})");  // legacy shape without the meta
  EXPECT_EQ(out->last().find("resultType"), std::string::npos);
}

TEST_F(McpServerCore, UnknownModernVersionNamesTheSupportedOnes) {
  send(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01"}}})");
  auto r = out->last();
  EXPECT_NE(r.find(R"("code":-32022)"), std::string::npos) << r;
  EXPECT_NE(r.find(R"("supported":["2026-07-28"],)"), std::string::npos) << r;
}

TEST_F(McpServerCore, ModernLogsNeedARequestLevelAndResourceNotFoundIsInvalidParams) {
  core.add_tool("slow", "{}");
  app.answer_now = false;
  send(R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow",)" + std::string(kModernMeta) + "}}");
  size_t before = out->sent.size();
  app.held->log(LogLevel::kError, "", "1");
  EXPECT_EQ(out->sent.size(), before);  // no logLevel in _meta: no notifications/message
  send(R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"slow","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/logLevel":"warning"}}})");
  app.held->log(LogLevel::kInfo, "", "1");
  EXPECT_EQ(out->sent.size(), before);
  app.held->log(LogLevel::kError, "", "2");
  EXPECT_EQ(out->sent.size(), before + 1);
  send(R"({"jsonrpc":"2.0","id":7,"method":"resources/read","params":{"uri":"x://y",)" + std::string(kModernMeta) + "}}");
  app.held->error(kResourceNotFound, "Resource not found");
  EXPECT_NE(out->last().find(R"("code":-32602)"), std::string::npos) << out->last();
}

}  // namespace
}  // namespace fa::mcp

namespace fa::mcp {
namespace {

TEST_F(McpServerCore, SubscribeIsAcknowledgedPerSession) {
  send(R"({"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"test://x"}})");
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":1,"result":{}})");
  EXPECT_EQ(session->subscriptions.count("test://x"), 1u);
  send(R"({"jsonrpc":"2.0","id":2,"method":"resources/unsubscribe","params":{"uri":"test://x"}})");
  EXPECT_TRUE(session->subscriptions.empty());
  send(R"({"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{}})");
  EXPECT_NE(out->last().find("-32602"), std::string::npos);
}

}  // namespace
}  // namespace fa::mcp
