// ProxyCore end to end on one EventLoop: upstreams are our own MCP server core served over
// Streamable HTTP in this process, and over stdio by this test binary re-executed as a child
// (FA_PROXY_TEST_STDIO_SERVER=1). The proxy's client side is a recording Channel.
#include "mcp/proxy/proxy_core.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "mcp/client/http_upstream.h"
#include "mcp/client/stdio_upstream.h"
#include "mcp/http_transport.h"
#include "mcp/stdio_transport.h"

namespace fa::mcp {
namespace {

// add(a, b) (answered with the raw arguments echoed), count (three progress notifications,
// then a result), hang (never answers), die (the process exits: stdio only).
struct UpstreamApp : Application {
  std::vector<uint64_t> cancelled;
  std::vector<Reply> hanging;
  std::string last_arguments;
  void call(const Call& c, Reply reply) override {
    last_arguments.assign(c.arguments);
    if (c.name == "add") {
      reply.result(R"({"content":[{"type":"text","text":"sum"}],"structuredContent":{"args":)" +
                   std::string(c.arguments.empty() ? "{}" : c.arguments) + "}}");
    } else if (c.name == "count") {
      for (int i = 1; i <= 3; ++i) reply.progress(i, 3, "step");
      reply.result(R"({"content":[{"type":"text","text":"counted"}]})");
    } else if (c.name == "die") {
      std::_Exit(3);
    } else if (c.kind == CallKind::kResource) {
      reply.result(R"({"contents":[{"uri":"mem://a","text":"A"}]})");
    } else {
      hanging.push_back(reply);  // hang
    }
  }
  void cancel(uint64_t id) override { cancelled.push_back(id); }
};

void register_fixtures(ServerCore& core) {
  core.add_tool("add", R"({"name":"add","inputSchema":{"type":"object"}})");
  core.add_tool("count", R"({"name":"count","inputSchema":{"type":"object"}})");
  core.add_tool("hang", R"({"name":"hang","inputSchema":{"type":"object"}})");
  core.add_tool("die", R"({"name":"die","inputSchema":{"type":"object"}})");
  core.add_resource("mem://a", R"({"uri":"mem://a","name":"a"})");
}

// The stdio upstream: this binary, re-executed.
struct StdioServerMain {
  StdioServerMain() {
    if (!std::getenv("FA_PROXY_TEST_STDIO_SERVER")) return;
    EventLoop loop;
    UpstreamApp app;
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

struct ProxyTest : ::testing::Test {
  EventLoop loop;
  UpstreamApp up_app;
  ServerCore up_core{up_app, ServerInfo{"http-up", "1"}};
  std::unique_ptr<HttpTransport> up_http;
  uint16_t up_port = 0;
  std::unique_ptr<proxy::ProxyCore> proxy;
  std::shared_ptr<Session> session = std::make_shared<Session>();

  void SetUp() override {
    // Children spawned by this test (and respawned later) run the stdio upstream.
    ::setenv("FA_PROXY_TEST_STDIO_SERVER", "1", 1);
    register_fixtures(up_core);
    HttpOptions o;
    o.port = 0;
    up_http = std::make_unique<HttpTransport>(loop, up_core, o);
    up_port = up_http->listen();
  }
  void TearDown() override {
    ::unsetenv("FA_PROXY_TEST_STDIO_SERVER");
    if (proxy) {
      proxy->close();
      for (int i = 0; i < 1000 && !proxy->closed(); ++i) loop.run_once(10);
      EXPECT_TRUE(proxy->closed());  // every child reaped
    }
    proxy.reset();
    for (int i = 0; i < 5; ++i) loop.run_once(0);
  }

  void make_proxy(proxy::ProxyOptions opts = {},
                  std::chrono::milliseconds timeout = std::chrono::seconds(5),
                  bool with_stdio = false, bool modern = true) {
    proxy = std::make_unique<proxy::ProxyCore>(loop, ServerInfo{"proxy", "1"}, std::move(opts));
    client::UpstreamOptions uo;
    uo.timeout = timeout;
    uo.probe_modern = modern;
    client::HttpUrl url{"127.0.0.1", up_port, "/mcp"};
    EventLoop* l = &loop;
    proxy->add_upstream("web", [l, url, uo] { return client::HttpUpstream::create(*l, url, uo); });
    if (with_stdio) {
      std::vector<std::string> argv{"/proc/self/exe"};
      proxy->add_upstream("local",
                          [l, argv, uo] { return client::StdioUpstream::create(*l, argv, uo); });
    }
    auto started = proxy->start();
    pump(started);
  }
  // Runs the loop until `done()` or `max_ms` of wall time passed. Waits on the clock, not on a
  // count of passes: run_once returns early whenever anything is ready.
  template <typename Pred>
  void run_until(Pred done, int max_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
    while (!done() && std::chrono::steady_clock::now() < deadline) loop.run_once(5);
  }
  // A 2026-07-28 upstream is told of a cancellation by its connection closing; our HTTP server
  // notices that hang-up on its next sweep of watched exchanges (once a second: HttpTransport's
  // sweep_period_), so a cancellation can take up to a second and a little more to arrive.
  void await_cancelled(size_t n) {
    run_until([&] { return up_app.cancelled.size() >= n; }, 5000);
  }
  template <typename F>
  void pump(F& fut, int max_ms = 10000) {
    for (int i = 0; i < max_ms / 5 && !fut.available(); ++i) loop.run_once(5);
    ASSERT_TRUE(fut.available());
  }
  // Sends one client message; runs the loop until `n` messages came back (or 10 s).
  std::vector<std::string> ask(const std::string& text, size_t n = 1, int max_ms = 10000) {
    auto ch = std::make_shared<Recorder>();
    proxy->handle(session, text, ch);
    for (int i = 0; i < max_ms / 5 && ch->sent.size() < n; ++i) loop.run_once(5);
    return ch->sent;
  }
  static std::string call(int id, const std::string& name, const std::string& args = "{}",
                          const std::string& meta = "") {
    std::string s = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                    R"(,"method":"tools/call","params":{"name":")" + name + R"(","arguments":)" +
                    args;
    if (!meta.empty()) s += R"(,"_meta":)" + meta;
    return s + "}}";
  }
};

TEST_F(ProxyTest, ListsAreMergedAndNamespaced) {
  make_proxy({}, std::chrono::seconds(5), /*with_stdio=*/true);
  auto out = ask(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  ASSERT_EQ(out.size(), 1u);
  for (const char* name : {"web__add", "web__count", "local__add", "local__hang"})
    EXPECT_NE(out[0].find(std::string("\"name\":\"") + name + "\""), std::string::npos) << out[0];
  auto res = ask(R"({"jsonrpc":"2.0","id":2,"method":"resources/list"})");
  ASSERT_EQ(res.size(), 1u);
  EXPECT_NE(res[0].find(R"("uri":"web+mem://a")"), std::string::npos) << res[0];
  EXPECT_NE(res[0].find(R"("uri":"local+mem://a")"), std::string::npos) << res[0];
}

TEST_F(ProxyTest, CallIsForwardedWithOnlyTheNameRewritten) {
  make_proxy();
  auto out = ask(call(7, "web__add", R"({"a":1,"b":{"deep":[2,3]}})"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(up_app.last_arguments, R"({"a":1,"b":{"deep":[2,3]}})");
  EXPECT_EQ(out[0], R"({"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"sum"}],)"
                    R"("structuredContent":{"args":{"a":1,"b":{"deep":[2,3]}}}}})");
  auto read =
      ask(R"({"jsonrpc":"2.0","id":8,"method":"resources/read","params":{"uri":"web+mem://a"}})");
  ASSERT_EQ(read.size(), 1u);
  EXPECT_NE(read[0].find(R"("text":"A")"), std::string::npos) << read[0];
}

TEST_F(ProxyTest, LegacyUpstreamEraWorksToo) {
  make_proxy({}, std::chrono::seconds(5), false, /*modern=*/false);
  auto out = ask(call(1, "web__add", R"({"a":1})"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find(R"("args":{"a":1})"), std::string::npos) << out[0];
  EXPECT_EQ(out[0].find("resultType"), std::string::npos) << out[0];
}

TEST_F(ProxyTest, ProgressIsRelayedWithTheClientsToken) {
  make_proxy({}, std::chrono::seconds(5), true);
  for (const char* name : {"web__count", "local__count"}) {
    auto out = ask(call(3, name, "{}", R"({"progressToken":"tok"})"), 4);
    ASSERT_EQ(out.size(), 4u) << name;
    for (int i = 0; i < 3; ++i) {
      EXPECT_NE(out[i].find(R"("method":"notifications/progress")"), std::string::npos) << out[i];
      EXPECT_NE(out[i].find(R"("progressToken":"tok")"), std::string::npos) << out[i];
      EXPECT_NE(out[i].find(R"("progress":)" + std::to_string(i + 1)), std::string::npos) << out[i];
    }
    EXPECT_NE(out[3].find(R"("text":"counted")"), std::string::npos) << out[3];
  }
}

TEST_F(ProxyTest, UnknownNamesAreInvalidParams) {
  make_proxy();
  for (const char* name : {"nope__add", "add", "web__"}) {
    auto out = ask(call(4, name));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NE(out[0].find(R"("code":-32602)"), std::string::npos) << out[0];
  }
}

TEST_F(ProxyTest, HangingUpstreamTimesOutAndIsCancelledUpstream) {
  make_proxy({}, std::chrono::milliseconds(200));
  auto out = ask(call(5, "web__hang"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find(R"("code":-32001)"), std::string::npos) << out[0];
  await_cancelled(1);
  EXPECT_EQ(up_app.cancelled.size(), 1u);  // the cancellation reached the upstream
  EXPECT_EQ(proxy->in_flight(), 0u);
}

// Forwarded calls carry no timer of their own: one deadline list per upstream (watch()). Answered
// calls leave it, a hanging one among them still times out at its own deadline, in order.
TEST_F(ProxyTest, DeadlineListTimesOutOnlyTheHangingCalls) {
  make_proxy({}, std::chrono::milliseconds(300));
  auto ch = std::make_shared<Recorder>();
  proxy->handle(session, call(20, "web__hang"), ch);
  for (int id = 21; id < 26; ++id) {  // answered while the first hangs
    auto out = ask(call(id, "web__add", R"({"a":1})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NE(out[0].find(R"("args":{"a":1})"), std::string::npos) << out[0];
  }
  proxy->handle(session, call(26, "web__hang"), ch);
  EXPECT_EQ(proxy->in_flight(), 2u);
  for (int i = 0; i < 400 && ch->sent.size() < 2; ++i) loop.run_once(5);
  ASSERT_EQ(ch->sent.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {  // each timed out, the older first
    EXPECT_NE(ch->sent[i].find(R"("code":-32001)"), std::string::npos) << ch->sent[i];
    EXPECT_NE(ch->sent[i].find(i == 0 ? R"("id":20)" : R"("id":26)"), std::string::npos);
  }
  await_cancelled(2);
  EXPECT_EQ(up_app.cancelled.size(), 2u);
  EXPECT_EQ(proxy->in_flight(), 0u);
  auto after = ask(call(27, "web__add", R"({"a":2})"));  // still serving
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(after[0].find(R"("args":{"a":2})"), std::string::npos) << after[0];
}

TEST_F(ProxyTest, ClientCancellationIsForwarded) {
  make_proxy();
  auto ch = std::make_shared<Recorder>();
  proxy->handle(session, call(9, "web__hang"), ch);
  for (int i = 0; i < 200 && up_app.hanging.empty(); ++i) loop.run_once(5);
  ASSERT_EQ(up_app.hanging.size(), 1u);
  proxy->handle(session,
                R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}})",
                ch);
  await_cancelled(1);
  EXPECT_EQ(up_app.cancelled.size(), 1u);
  EXPECT_TRUE(ch->sent.empty());  // cancelled requests get no answer (cancellation.mdx)
  EXPECT_EQ(proxy->in_flight(), 0u);
}

TEST_F(ProxyTest, UpstreamDyingMidCallFailsTheCallAndReapsTheChild) {
  make_proxy({}, std::chrono::seconds(5), true);
  auto out = ask(call(6, "local__die"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find(R"("code":-32000)"), std::string::npos) << out[0];
  EXPECT_NE(out[0].find("local"), std::string::npos) << out[0];
  // Still serving: the other upstream answers, and the dead one is respawned on its next call.
  auto again = ask(call(7, "local__add", R"({"x":1})"));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].find(R"("args":{"x":1})"), std::string::npos) << again[0];
  // No zombie: every child of this process has been reaped.
  for (int i = 0; i < 100; ++i) loop.run_once(5);
  proxy->close();
  for (int i = 0; i < 400; ++i) {
    loop.run_once(5);
    if (::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD) break;
  }
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(ProxyTest, BreakerOpensAfterFailuresAndRecoversHalfOpen) {
  proxy::ProxyOptions opts;
  opts.breaker.failure_threshold = 2;
  opts.breaker.cooldown = std::chrono::milliseconds(300);
  make_proxy(opts);
  up_http.reset();  // the upstream goes away
  for (int i = 0; i < 10; ++i) loop.run_once(1);
  for (int i = 0; i < 2; ++i) {
    auto out = ask(call(10 + i, "web__add"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NE(out[0].find(R"("code":-32000)"), std::string::npos) << out[0];
  }
  auto open = ask(call(12, "web__add"));
  ASSERT_EQ(open.size(), 1u);
  EXPECT_NE(open[0].find(R"("code":-32010)"), std::string::npos) << open[0];
  EXPECT_NE(open[0].find("circuit open"), std::string::npos) << open[0];
  EXPECT_NE(proxy->status_json().find(R"("state":"open")"), std::string::npos);
  // The upstream comes back on the same port; after the cool-down a probe closes the breaker.
  HttpOptions o;
  o.port = up_port;
  up_http = std::make_unique<HttpTransport>(loop, up_core, o);
  up_http->listen();
  for (int i = 0; i < 70; ++i) loop.run_once(5);
  auto probe = ask(call(13, "web__add", R"({"p":1})"));
  ASSERT_EQ(probe.size(), 1u);
  EXPECT_NE(probe[0].find(R"("args":{"p":1})"), std::string::npos) << probe[0];
  EXPECT_NE(proxy->status_json().find(R"("state":"closed")"), std::string::npos);
}

TEST_F(ProxyTest, DeadUpstreamIsLeftOutOfLists) {
  make_proxy({}, std::chrono::seconds(5), true);
  up_http.reset();
  auto out = ask(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find("local__add"), std::string::npos) << out[0];
  EXPECT_EQ(out[0].find("web__add"), std::string::npos) << out[0];
}

TEST_F(ProxyTest, StdioClientsAreRateLimited) {
  proxy::ProxyOptions opts;
  opts.rate_limit.rate = 1;
  opts.rate_limit.burst = 2;
  opts.limit_in_core = true;
  make_proxy(opts);
  EXPECT_NE(ask(call(1, "web__add"))[0].find("result"), std::string::npos);
  EXPECT_NE(ask(call(2, "web__add"))[0].find("result"), std::string::npos);
  auto limited = ask(call(3, "web__add"));
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_NE(limited[0].find(R"("code":-32029)"), std::string::npos) << limited[0];
  EXPECT_NE(limited[0].find("retryAfterMs"), std::string::npos) << limited[0];
}

}  // namespace
}  // namespace fa::mcp
