// ProxyCore relaying what upstreams send on their own (src/mcp/proxy/forward_upstream.cpp):
// list_changed, resources/updated (namespaced URI, after a forwarded subscribe), logging during
// a call, and server-to-client requests (sampling, elicitation, roots) to the client that made
// the call and its answer back; refused when the client did not declare the capability. The
// upstreams are our own server core over Streamable HTTP in this process and over stdio (this
// binary re-executed, FA_PROXY_FORWARD_TEST_STDIO=1); the client is a recording Channel.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "mcp/client/http_upstream.h"
#include "mcp/client/stdio_upstream.h"
#include "mcp/http_transport.h"
#include "mcp/proxy/proxy_core.h"
#include "mcp/stdio_transport.h"

namespace fa::mcp {
namespace {

// ask: sends the client sampling/createMessage and answers with what the client said.
// chat: logs one message, then answers.
struct App : Application {
  std::vector<Reply> asking;
  void call(const Call& c, Reply reply) override {
    if (c.name == "ask") {
      if (reply.request("sampling/createMessage", R"({"messages":[],"maxTokens":5})") == 0)
        reply.error(-32603, "not sent");
      asking.push_back(reply);
    } else if (c.name == "chat") {
      reply.log(LogLevel::kWarning, "up", R"({"said":"hi"})");
      reply.result(R"({"content":[{"type":"text","text":"chatted"}]})");
    } else {
      reply.result(R"({"contents":[{"uri":"mem://a","text":"A"}]})");
    }
  }
  void cancel(uint64_t) override {}
  void response(uint64_t, bool ok, std::string_view json) override {
    if (asking.empty()) return;
    Reply r = asking.front();
    asking.erase(asking.begin());
    r.result(std::string(R"({"content":[],"structuredContent":{"ok":)") + (ok ? "true" : "false") +
             R"(,"answer":)" + std::string(json) + "}}");
  }
};

void register_fixtures(ServerCore& core) {
  core.add_tool("ask", R"({"name":"ask","inputSchema":{"type":"object"}})");
  core.add_tool("chat", R"({"name":"chat","inputSchema":{"type":"object"}})");
  core.add_resource("mem://a", R"({"uri":"mem://a","name":"a"})");
}

struct StdioServerMain {
  StdioServerMain() {
    if (!std::getenv("FA_PROXY_FORWARD_TEST_STDIO")) return;
    EventLoop loop;
    App app;
    ServerCore core(app, ServerInfo{"stdio-up", "1"});
    register_fixtures(core);
    StdioTransport t(loop, core, 0, 1);
    bool closed = false;
    t.on_closed([&] { closed = true; });
    if (!t.start()) std::_Exit(2);
    while (!closed) loop.run_once(100);
    std::_Exit(0);
  }
} stdio_server_main;

struct Recorder : Channel {
  std::vector<std::string> sent;
  void send(std::string_view message, bool, bool) override { sent.emplace_back(message); }
};

bool has(const std::vector<std::string>& v, std::string_view needle) {
  for (auto& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

struct ProxyForwardTest : ::testing::Test {
  EventLoop loop;
  App up_app;
  ServerCore up_core{up_app, ServerInfo{"http-up", "1"}};
  std::unique_ptr<HttpTransport> up_http;
  uint16_t up_port = 0;
  std::unique_ptr<proxy::ProxyCore> proxy;
  std::shared_ptr<Session> session = std::make_shared<Session>();
  std::shared_ptr<Recorder> notifier = std::make_shared<Recorder>();

  void SetUp() override {
    ::setenv("FA_PROXY_FORWARD_TEST_STDIO", "1", 1);
    register_fixtures(up_core);
    HttpOptions o;
    o.port = 0;
    up_http = std::make_unique<HttpTransport>(loop, up_core, o);
    up_port = up_http->listen();
    proxy =
        std::make_unique<proxy::ProxyCore>(loop, ServerInfo{"proxy", "1"}, proxy::ProxyOptions{});
    client::UpstreamOptions uo;
    uo.timeout = std::chrono::seconds(5);
    uo.probe_modern = false;  // 2025-11-25 sessions: the GET stream carries list_changed
    uo.capabilities = R"({"sampling":{},"elicitation":{},"roots":{}})";
    client::HttpUrl url{"127.0.0.1", up_port, "/mcp"};
    EventLoop* l = &loop;
    proxy->add_upstream("web", [l, url, uo] { return client::HttpUpstream::create(*l, url, uo); });
    proxy->add_upstream(
        "local", [l, uo] { return client::StdioUpstream::create(*l, {"/proc/self/exe"}, uo); });
    auto started = proxy->start();
    for (int i = 0; i < 2000 && !started.available(); ++i) loop.run_once(5);
    ASSERT_TRUE(started.available());
  }
  void TearDown() override {
    ::unsetenv("FA_PROXY_FORWARD_TEST_STDIO");
    proxy->close();
    for (int i = 0; i < 1000 && !proxy->closed(); ++i) loop.run_once(10);
    EXPECT_TRUE(proxy->closed());
    proxy.reset();
    for (int i = 0; i < 5; ++i) loop.run_once(0);
  }

  // The client: initialize with `capabilities`, initialized, unsolicited messages to notifier.
  void connect(const std::string& capabilities) {
    session->notifier = notifier;
    ask(R"({"jsonrpc":"2.0","id":100,"method":"initialize","params":{"protocolVersion":)"
        R"("2025-11-25","capabilities":)" +
        capabilities + R"(,"clientInfo":{"name":"t","version":"1"}}})");
    ask(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", 0, 50);
  }
  std::vector<std::string> ask(const std::string& text, size_t n = 1, int max_ms = 5000,
                               std::shared_ptr<Recorder> ch = nullptr) {
    if (!ch) ch = std::make_shared<Recorder>();
    proxy->handle(session, text, ch);
    for (int i = 0; i < max_ms / 5 && ch->sent.size() < n; ++i) loop.run_once(5);
    return ch->sent;
  }
  template <typename P>
  void pump_until(P pred, int max_ms = 5000) {
    for (int i = 0; i < max_ms / 5 && !pred(); ++i) loop.run_once(5);
  }
  static std::string call(int id, const std::string& name) {
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
           R"(,"method":"tools/call","params":{"name":")" + name + R"(","arguments":{}}})";
  }
};

TEST_F(ProxyForwardTest, ListChangedBecomesTheProxysOwn) {
  connect("{}");
  pump_until([&] {
    if (!has(notifier->sent, "list_changed")) up_core.notify_list_changed("tools");
    return has(notifier->sent, "list_changed");
  });
  EXPECT_TRUE(has(notifier->sent, R"("method":"notifications/tools/list_changed")"));
}

TEST_F(ProxyForwardTest, ResourceUpdatedCarriesTheNamespacedUri) {
  connect("{}");
  auto sub = ask(
      R"({"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"web+mem://a"}})");
  ASSERT_EQ(sub.size(), 1u);
  EXPECT_NE(sub[0].find(R"("result":{})"), std::string::npos) << sub[0];
  pump_until([&] {
    if (!has(notifier->sent, "resources/updated")) up_core.notify_resource_updated("mem://a");
    return has(notifier->sent, "resources/updated");
  });
  EXPECT_TRUE(has(notifier->sent, R"("uri":"web+mem://a")"));
}

TEST_F(ProxyForwardTest, LoggingDuringACallGoesToItsClient) {
  connect("{}");
  for (const char* name : {"web__chat", "local__chat"}) {
    auto out = ask(call(3, name), 2);
    ASSERT_EQ(out.size(), 2u) << name;
    EXPECT_NE(out[0].find(R"("method":"notifications/message")"), std::string::npos) << out[0];
    EXPECT_NE(out[0].find(R"("level":"warning")"), std::string::npos) << out[0];
    EXPECT_NE(out[0].find(R"("data":{"said":"hi"})"), std::string::npos) << out[0];
    EXPECT_NE(out[1].find("chatted"), std::string::npos) << out[1];
  }
}

TEST_F(ProxyForwardTest, SamplingGoesToTheCallerAndItsAnswerBack) {
  connect(R"({"sampling":{}})");
  for (const char* name : {"web__ask", "local__ask"}) {
    auto ch = std::make_shared<Recorder>();
    auto out = ask(call(4, name), 1, 5000, ch);
    ASSERT_EQ(out.size(), 1u) << name;
    EXPECT_NE(out[0].find(R"("method":"sampling/createMessage")"), std::string::npos) << out[0];
    // The client answers the proxy's request id.
    Parser p;
    Message m;
    ParseFailure f;
    ASSERT_TRUE(p.parse(out[0], m, f));
    std::string id(m.id);
    ask(R"({"jsonrpc":"2.0","id":)" + id +
            R"(,"result":{"role":"assistant","content":{"type":"text","text":"fine"}}})",
        2, 5000, ch);
    pump_until([&] { return ch->sent.size() >= 2; });
    ASSERT_EQ(ch->sent.size(), 2u) << name;
    EXPECT_NE(ch->sent[1].find(R"("ok":true)"), std::string::npos) << ch->sent[1];
    EXPECT_NE(ch->sent[1].find(R"("text":"fine")"), std::string::npos) << ch->sent[1];
  }
}

TEST_F(ProxyForwardTest, SamplingIsRefusedWhenTheClientDidNotDeclareIt) {
  connect("{}");
  auto out = ask(call(5, "web__ask"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find(R"("ok":false)"), std::string::npos) << out[0];
  EXPECT_NE(out[0].find("-32601"), std::string::npos) << out[0];
  EXPECT_NE(out[0].find("sampling capability"), std::string::npos) << out[0];
}

// 2026-07-28 clients (basic/patterns/mrtr.mdx): the upstream's sampling request becomes an
// InputRequiredResult; the retry's inputResponses go to the upstream, which then answers the
// retry. A 2026-07-28 tools/call with the given id, name and extra params members.
std::string modern_call(int id, const std::string& name, const std::string& extra = "",
                        const std::string& caps = R"({"sampling":{}})") {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"tools/call","params":{"name":")" + name + R"(","arguments":{})" + extra +
         R"(,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
         R"("io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},)"
         R"("io.modelcontextprotocol/clientCapabilities":)" +
         caps + "}}}";
}

std::string string_member(std::string_view json, const char* key) {
  Parser p;
  Message m;
  ParseFailure f;
  if (!p.parse(json, m, f)) return {};
  simdjson::dom::parser dp;
  simdjson::dom::element doc;
  std::string_view v;
  if (dp.parse(m.result.data(), m.result.size()).get(doc) || doc[key].get_string().get(v)) return {};
  return std::string(v);
}

TEST_F(ProxyForwardTest, ModernClientGetsInputRoundsForUpstreamRequests) {
  for (const char* name : {"web__ask", "local__ask"}) {
    auto first = ask(modern_call(10, name));
    ASSERT_EQ(first.size(), 1u) << name;
    // The client's request is answered: input required, with the upstream's request in it.
    EXPECT_NE(first[0].find(R"("id":10,"result":{"resultType":"input_required")"),
              std::string::npos)
        << first[0];
    EXPECT_NE(first[0].find(R"("input-1":{"method":"sampling/createMessage","params":{)"),
              std::string::npos)
        << first[0];
    std::string state = string_member(first[0], "requestState");
    ASSERT_TRUE(state.starts_with("fa-proxy.")) << first[0];
    EXPECT_EQ(proxy->in_flight(), 1u);  // the upstream still waits for the answer

    // A state for another tool, or one never issued, is refused.
    auto wrong = ask(modern_call(11, "web__chat", R"(,"requestState":")" + state + "\""));
    ASSERT_EQ(wrong.size(), 1u);
    EXPECT_NE(wrong[0].find("-32602"), std::string::npos) << wrong[0];
    auto forged = ask(modern_call(12, name, R"(,"requestState":"fa-proxy.0000")"));
    ASSERT_EQ(forged.size(), 1u);
    EXPECT_NE(forged[0].find("unknown or expired"), std::string::npos) << forged[0];

    // The retry without the answer is asked again; with it, the upstream's result comes back.
    auto again = ask(modern_call(13, name, R"(,"requestState":")" + state + "\""));
    ASSERT_EQ(again.size(), 1u);
    EXPECT_NE(again[0].find(R"("id":13,"result":{"resultType":"input_required")"),
              std::string::npos)
        << again[0];
    auto done = ask(modern_call(14, name,
                                R"(,"inputResponses":{"input-1":{"role":"assistant","content":)"
                                R"({"type":"text","text":"fine"}}},"requestState":")" +
                                    state + "\""));
    ASSERT_EQ(done.size(), 1u) << name;
    EXPECT_NE(done[0].find(R"("id":14,"result":{"resultType":"complete")"), std::string::npos)
        << done[0];
    EXPECT_NE(done[0].find(R"("ok":true)"), std::string::npos) << done[0];
    EXPECT_NE(done[0].find(R"("text":"fine")"), std::string::npos) << done[0];
    EXPECT_EQ(proxy->in_flight(), 0u);
    // Used up: the state is not accepted again.
    auto replay = ask(modern_call(15, name, R"(,"requestState":")" + state + "\""));
    ASSERT_EQ(replay.size(), 1u);
    EXPECT_NE(replay[0].find("unknown or expired"), std::string::npos) << replay[0];
  }
}

TEST_F(ProxyForwardTest, ModernClientWithoutTheCapabilityIsNotAsked) {
  auto out = ask(modern_call(20, "web__ask", "", "{}"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find(R"("resultType":"complete")"), std::string::npos) << out[0];
  EXPECT_NE(out[0].find(R"("ok":false)"), std::string::npos) << out[0];
  EXPECT_NE(out[0].find("sampling capability"), std::string::npos) << out[0];
}

TEST_F(ProxyForwardTest, UnansweredInputRoundIsCancelledUpstreamAfterTheTtl) {
  proxy->close();
  for (int i = 0; i < 1000 && !proxy->closed(); ++i) loop.run_once(10);
  proxy::ProxyOptions o;
  o.input_ttl = std::chrono::milliseconds(100);
  proxy = std::make_unique<proxy::ProxyCore>(loop, ServerInfo{"proxy", "1"}, o);
  client::UpstreamOptions uo;
  uo.probe_modern = false;
  uo.capabilities = R"({"sampling":{}})";
  client::HttpUrl url{"127.0.0.1", up_port, "/mcp"};
  EventLoop* l = &loop;
  proxy->add_upstream("web", [l, url, uo] { return client::HttpUpstream::create(*l, url, uo); });
  auto started = proxy->start();
  pump_until([&] { return started.available(); });
  auto first = ask(modern_call(30, "web__ask"));
  ASSERT_EQ(first.size(), 1u);
  std::string state = string_member(first[0], "requestState");
  EXPECT_EQ(proxy->in_flight(), 1u);
  pump_until([&] { return proxy->in_flight() == 0; }, 2000);
  EXPECT_EQ(proxy->in_flight(), 0u);
  auto late = ask(modern_call(31, "web__ask", R"(,"requestState":")" + state + "\""));
  ASSERT_EQ(late.size(), 1u);
  EXPECT_NE(late[0].find("unknown or expired"), std::string::npos) << late[0];
}

}  // namespace
}  // namespace fa::mcp
