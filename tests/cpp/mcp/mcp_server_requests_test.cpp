// Server-to-client requests, list_changed / resource updates, subscriptions/listen and the
// 2026-07-28 stateless checks of ServerCore (src/mcp/server_core.h, reply.h).
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "mcp/event_log.h"
#include "mcp/server_core.h"

namespace fa::mcp {
namespace {

struct Recorder : Channel {
  std::vector<std::string> sent;
  std::vector<bool> refused;
  int not_found = 0;
  const HeaderLookup* lookup = nullptr;
  void send(std::string_view message, bool, bool r) override {
    sent.emplace_back(message);
    refused.push_back(r);
  }
  void send_not_found(std::string_view message) override {
    ++not_found;
    sent.emplace_back(message);
    refused.push_back(false);
  }
  const HeaderLookup* headers() const override { return lookup; }
  std::string last() const { return sent.empty() ? "" : sent.back(); }
};

struct App : Application {
  std::optional<Reply> held;
  std::vector<std::tuple<uint64_t, bool, std::string>> responses;
  void call(const Call&, Reply reply) override { held = reply; }
  void cancel(uint64_t) override {}
  void response(uint64_t number, bool ok, std::string_view json) override {
    responses.emplace_back(number, ok, std::string(json));
  }
};

struct Requests : ::testing::Test {
  App app;
  ServerCore core{app, ServerInfo{"s", "1", "", ""}};
  std::shared_ptr<Session> session = std::make_shared<Session>();
  std::shared_ptr<Recorder> out = std::make_shared<Recorder>();
  Outcome send(std::string_view text) { return core.handle(session, text, out); }
  void SetUp() override {
    core.add_tool("t", R"({"name":"t"})");
    send(
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{}}}})");
    send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }
};

bool has(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

TEST_F(Requests, InitializeKeepsTheClientCapabilities) {
  EXPECT_EQ(session->client_capabilities, R"({"sampling":{}})");
}

TEST_F(Requests, ARequestToTheClientIsCorrelatedWithItsResponse) {
  ASSERT_EQ(send(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t"}})"),
            Outcome::kPending);
  uint64_t n = app.held->request("sampling/createMessage", R"({"maxTokens":5})");
  ASSERT_GT(n, 0u);
  std::string id = std::to_string(n);
  EXPECT_EQ(out->last(), R"({"jsonrpc":"2.0","id":)" + id +
                             R"(,"method":"sampling/createMessage","params":{"maxTokens":5}})");
  // An answer to an id we never sent is ignored; ours reaches the application once.
  EXPECT_EQ(send(R"({"jsonrpc":"2.0","id":999999,"result":{}})"), Outcome::kNoReply);
  EXPECT_TRUE(app.responses.empty());
  send(R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":{"role":"assistant"}})");
  send(R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":{"role":"assistant"}})");
  ASSERT_EQ(app.responses.size(), 1u);
  EXPECT_EQ(std::get<0>(app.responses[0]), n);
  EXPECT_TRUE(std::get<1>(app.responses[0]));
  EXPECT_EQ(std::get<2>(app.responses[0]), R"({"role":"assistant"})");
}

TEST_F(Requests, AnErrorResponseCarriesItsErrorObject) {
  send(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t"}})");
  uint64_t n = app.held->request("elicitation/create", "{}");
  send(R"({"jsonrpc":"2.0","id":)" + std::to_string(n) + R"(,"error":{"code":-1,"message":"no"}})");
  ASSERT_EQ(app.responses.size(), 1u);
  EXPECT_FALSE(std::get<1>(app.responses[0]));
  EXPECT_EQ(std::get<2>(app.responses[0]), R"({"code":-1,"message":"no"})");
}

TEST_F(Requests, AResponseFromAnotherSessionIsIgnored) {
  send(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t"}})");
  uint64_t n = app.held->request("roots/list", {});
  auto other = std::make_shared<Session>();
  core.handle(other, R"({"jsonrpc":"2.0","id":)" + std::to_string(n) + R"(,"result":{"roots":[]}})",
              out);
  EXPECT_TRUE(app.responses.empty());
}

TEST_F(Requests, ListChangedGoesToSessionsWithANotifier) {
  EXPECT_EQ(core.notify_list_changed("tools"), 0u);  // no channel for unsolicited messages yet
  auto stream = std::make_shared<Recorder>();
  session->notifier = stream;
  EXPECT_EQ(core.notify_list_changed("tools"), 1u);
  EXPECT_EQ(stream->last(), R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})");
}

TEST_F(Requests, ResourceUpdatesGoOnlyToSubscribers) {
  auto stream = std::make_shared<Recorder>();
  session->notifier = stream;
  EXPECT_EQ(core.notify_resource_updated("test://a"), 0u);
  send(R"({"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"test://a"}})");
  EXPECT_EQ(core.notify_resource_updated("test://a"), 1u);
  EXPECT_EQ(
      stream->last(),
      R"({"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"test://a"}})");
}

TEST_F(Requests, RemovedToolsLeaveTheListing) {
  core.add_tool("u", R"({"name":"u"})");
  EXPECT_TRUE(core.remove_tool("t"));
  EXPECT_FALSE(core.remove_tool("t"));
  send(R"({"jsonrpc":"2.0","id":4,"method":"tools/list"})");
  EXPECT_TRUE(has(out->last(), R"("tools":[{"name":"u"}])")) << out->last();
  send(R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t"}})");
  EXPECT_TRUE(has(out->last(), "Unknown tool: t"));
}

constexpr std::string_view kMeta =
    R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}})";

TEST_F(Requests, ListenAcknowledgesThenDeliversWithTheSubscriptionId) {
  auto s = std::make_shared<Session>();
  auto stream = std::make_shared<Recorder>();
  std::string listen =
      R"({"jsonrpc":"2.0","id":"sub","method":"subscriptions/listen","params":{)" +
      std::string(kMeta) +
      R"(,"notifications":{"toolsListChanged":true,"resourceSubscriptions":["test://w"]}}})";
  EXPECT_EQ(core.handle(s, listen, stream), Outcome::kPending);
  EXPECT_EQ(
      stream->last(),
      R"({"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged","params":{"_meta":{"io.modelcontextprotocol/subscriptionId":"sub"},"notifications":{"toolsListChanged":true,"resourceSubscriptions":["test://w"]}}})");
  core.notify_list_changed("prompts");  // not asked for
  EXPECT_EQ(stream->sent.size(), 1u);
  core.notify_list_changed("tools");
  EXPECT_TRUE(has(stream->last(), R"("io.modelcontextprotocol/subscriptionId":"sub")"))
      << stream->last();
  core.notify_resource_updated("test://w");
  EXPECT_TRUE(has(stream->last(), R"("uri":"test://w")")) << stream->last();
  // notifications/cancelled ends it (stdio: basic/patterns/subscriptions.mdx "Cancellation").
  core.handle(
      s, R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"sub"}})",
      stream);
  size_t before = stream->sent.size();
  core.notify_list_changed("tools");
  EXPECT_EQ(stream->sent.size(), before);
}

TEST_F(Requests, StatelessRequestsNeedTheirMeta) {
  auto s = std::make_shared<Session>();
  s->stateless = true;
  core.handle(s, R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})", out);
  EXPECT_TRUE(has(out->last(),
                  R"("id":7,"error":{"code":-32602,"message":"Invalid params: missing _meta")"));
  EXPECT_TRUE(out->refused.back());
  core.handle(
      s,
      R"({"jsonrpc":"2.0","id":8,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})",
      out);
  EXPECT_TRUE(has(out->last(), "clientCapabilities")) << out->last();
  core.handle(
      s, R"({"jsonrpc":"2.0","id":9,"method":"tools/list","params":{)" + std::string(kMeta) + "}}",
      out);
  EXPECT_TRUE(has(out->last(), R"("result":{"resultType":"complete")")) << out->last();
}

TEST_F(Requests, RemovedMethodsAreNotFoundOn2026) {
  auto s = std::make_shared<Session>();
  core.handle(
      s, R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{)" + std::string(kMeta) + "}}", out);
  EXPECT_EQ(out->not_found, 1);
  EXPECT_TRUE(has(out->last(), R"("code":-32601)"));
}

TEST_F(Requests, MirroredHeadersMustMatchTheBody) {
  std::vector<std::pair<std::string, std::string>> h = {
      {"mcp-protocol-version", "2026-07-28"}, {"mcp-method", "tools/call"}, {"mcp-name", "t"}};
  HeaderLookup lookup = [&](std::string_view name) -> std::string_view {
    for (auto& [k, v] : h)
      if (k == name) return v;
    return {};
  };
  out->lookup = &lookup;
  auto s = std::make_shared<Session>();
  std::string call = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{)" +
                     std::string(kMeta) + R"(,"name":"t","arguments":{}}})";
  EXPECT_EQ(core.handle(s, call, out), Outcome::kPending);
  h[2].second = "other";
  core.handle(s, call, out);
  EXPECT_TRUE(has(out->last(), R"("code":-32020)")) << out->last();
  EXPECT_TRUE(out->refused.back());
  h[2].second = "=?base64?dA==?=";  // "t"
  EXPECT_EQ(core.handle(s, call, out), Outcome::kPending);
  h[0].second = "2025-11-25";  // header and _meta disagree
  core.handle(s, call, out);
  EXPECT_TRUE(has(out->last(), "MCP-Protocol-Version")) << out->last();
}

TEST(HeaderValue, Base64SentinelAndLiterals) {
  std::string v;
  EXPECT_TRUE(decode_header_value("  us-west1 ", v));
  EXPECT_EQ(v, "us-west1");
  EXPECT_TRUE(decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=", v));
  EXPECT_EQ(v, "Hello, 世界");
  EXPECT_FALSE(decode_header_value("=?base64?SGVsbG8?=", v));  // unpadded
  EXPECT_TRUE(decode_header_value("=?base64?SGVsbG8=", v));    // no suffix: literal
  EXPECT_EQ(v, "=?base64?SGVsbG8=");
  EXPECT_FALSE(decode_header_value("caf\xc3\xa9", v));  // raw non-ASCII
  EXPECT_FALSE(decode_header_value("a\x01", v));
}

}  // namespace
}  // namespace fa::mcp

namespace fa::mcp {
namespace {

TEST(EventLog, ReplaysOnlyWhatFollowedOnTheNamedStream) {
  EventLog log;
  EXPECT_EQ(log.open_stream(), 0u);
  EXPECT_EQ(log.open_stream(), 1u);
  EXPECT_EQ(log.append(1, "a"), "1-1");
  EXPECT_EQ(log.append(0, "g"), "0-1");
  EXPECT_EQ(log.append(1, "b"), "1-2");
  std::vector<std::string> got;
  auto collect = [&](std::string_view id, std::string_view m) {
    got.push_back(std::string(id) + "=" + std::string(m));
  };
  EXPECT_TRUE(log.replay("1-0", collect));
  EXPECT_EQ(got, (std::vector<std::string>{"1-1=a", "1-2=b"}));
  got.clear();
  EXPECT_TRUE(log.replay("1-1", collect));
  EXPECT_EQ(got, (std::vector<std::string>{"1-2=b"}));
  EXPECT_FALSE(log.replay("7-0", collect));  // no such stream
  EXPECT_FALSE(log.replay("1-", collect));
  EXPECT_FALSE(log.replay("x", collect));
  EXPECT_EQ(EventLog::stream_of("12-3"), 12u);
  EXPECT_FALSE(EventLog::stream_of("12"));
}

TEST(EventLog, IsBounded) {
  EventLog log(2, 1 << 20);
  log.open_stream();
  log.append(0, "a");
  log.append(0, "b");
  log.append(0, "c");
  std::vector<std::string> got;
  log.replay("0-0", [&](std::string_view, std::string_view m) { got.emplace_back(m); });
  EXPECT_EQ(got, (std::vector<std::string>{"b", "c"}));
}

}  // namespace
}  // namespace fa::mcp
