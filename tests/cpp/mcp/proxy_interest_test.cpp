// What ProxyCore keeps upstream for its clients beyond one call, observed on the upstream: our
// own server core served over Streamable HTTP in this process (either era), whose
// notify_resource_updated / notify_list_changed say how many subscriptions it holds and whose
// log messages show the level it was told.
//  - resource subscriptions: counted per client, withdrawn upstream with the last one (a
//    2025-11-25 session's end, a 2026-07-28 listen cancelled; the upstream's listen replaced);
//  - logging/setLevel: the most verbose level of the connected 2025-11-25 clients.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mcp/client/http_upstream.h"
#include "mcp/http_transport.h"
#include "mcp/proxy/proxy_core.h"

namespace fa::mcp {
namespace {

// `logs`: one debug and one error message on the call, then its result.
struct UpstreamApp : Application {
  void call(const Call&, Reply reply) override {
    reply.log(LogLevel::kDebug, "t", R"("d")");
    reply.log(LogLevel::kError, "t", R"("e")");
    reply.result(R"({"content":[{"type":"text","text":"logged"}]})");
  }
  void cancel(uint64_t) override {}
};

struct Recorder : Channel {
  std::vector<std::string> sent;
  void send(std::string_view message, bool, bool) override { sent.emplace_back(message); }
  size_t count(std::string_view needle) const {
    size_t n = 0;
    for (const auto& m : sent) n += m.find(needle) != std::string::npos;
    return n;
  }
};

constexpr const char* kModernMeta =
    R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"})";

struct ProxyInterestTest : ::testing::Test {
  EventLoop loop;
  UpstreamApp up_app;
  ServerCore up_core{up_app, ServerInfo{"http-up", "1", {}, {}}};
  std::unique_ptr<HttpTransport> up_http;
  std::unique_ptr<proxy::ProxyCore> proxy;

  void SetUp() override {
    up_core.add_tool("logs", R"({"name":"logs","inputSchema":{"type":"object"}})");
    up_core.add_resource("mem://a", R"({"uri":"mem://a","name":"a"})");
    HttpOptions o;
    o.port = 0;
    up_http = std::make_unique<HttpTransport>(loop, up_core, o);
    uint16_t port = up_http->listen();
    proxy = std::make_unique<proxy::ProxyCore>(loop, ServerInfo{"proxy", "1", {}, {}},
                                               proxy::ProxyOptions{});
    client::HttpUrl url{"127.0.0.1", port, "/mcp"};
    EventLoop* l = &loop;
    modern_upstream = !std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())
                           .starts_with("Legacy");
    client::UpstreamOptions uo;
    uo.probe_modern = modern_upstream;
    proxy->add_upstream("web", [l, url, uo] { return client::HttpUpstream::create(*l, url, uo); });
    auto started = proxy->start();
    for (int i = 0; i < 2000 && !started.available(); ++i) loop.run_once(5);
    ASSERT_TRUE(started.available());
  }
  void TearDown() override {
    proxy->close();
    for (int i = 0; i < 200 && !proxy->closed(); ++i) loop.run_once(10);
    proxy.reset();
    for (int i = 0; i < 5; ++i) loop.run_once(0);
  }
  // Runs the loop until `done` (or 10 s); false on timeout.
  bool until(const std::function<bool()>& done) {
    for (int i = 0; i < 2000; ++i) {
      if (done()) return true;
      loop.run_once(5);
    }
    return done();
  }
  std::shared_ptr<Recorder> send(const std::shared_ptr<Session>& s, const std::string& text) {
    auto ch = std::make_shared<Recorder>();
    proxy->handle(s, text, ch);
    return ch;
  }
  std::shared_ptr<Session> legacy_session() {
    auto s = std::make_shared<Session>();
    send(s, R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":)"
            R"("2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}})");
    send(s, R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    return s;
  }
  static std::string subscribe(const char* method, int id) {
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"resources/)" + method +
           R"(","params":{"uri":"web+mem://a"}})";
  }
  // How many upstream subscriptions name mem://a (sessions and listens of the upstream core).
  size_t upstream_subscriptions() { return up_core.notify_resource_updated("mem://a"); }
  bool modern_upstream = true;
};

TEST_F(ProxyInterestTest, ListenIsWithdrawnUpstreamWhenTheClientCancelsIt) {
  // The proxy's own listen (list changes only) is open on the upstream.
  ASSERT_TRUE(until([&] { return up_core.notify_list_changed("tools") == 1; }));
  EXPECT_EQ(upstream_subscriptions(), 0u);
  auto client = std::make_shared<Session>();
  std::string listen = R"({"jsonrpc":"2.0","id":"l1","method":"subscriptions/listen","params":{)";
  listen += kModernMeta;
  listen += R"(,"notifications":{"resourceSubscriptions":["web+mem://a","web+mem://a"]}}})";
  auto stream = send(client, listen);
  ASSERT_TRUE(until([&] { return upstream_subscriptions() == 1; }));
  // The upstream's update reaches the client's listen under the proxy's URI.
  ASSERT_TRUE(until([&] { return stream->count(R"("uri":"web+mem://a")") > 0; }));
  // Replaced, not added to: the upstream holds one listen (the old one's connection closed).
  ASSERT_TRUE(until([&] { return up_core.notify_list_changed("tools") == 1; }));

  send(client,
       R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"l1"}})");
  ASSERT_TRUE(until([&] { return upstream_subscriptions() == 0; }));
  ASSERT_TRUE(until([&] { return up_core.notify_list_changed("tools") == 1; }));
}

TEST_F(ProxyInterestTest, ListenIsWithdrawnUpstreamWhenTheClientsSessionEnds) {
  auto a = std::make_shared<Session>(), b = std::make_shared<Session>();
  for (auto [s, id] : {std::pair{a, "1"}, std::pair{b, "2"}})
    send(s, std::string(R"({"jsonrpc":"2.0","id":)") + id +
                R"(,"method":"subscriptions/listen","params":{)" + kModernMeta +
                R"(,"notifications":{"resourceSubscriptions":["web+mem://a"]}}})");
  ASSERT_TRUE(until([&] { return upstream_subscriptions() == 1; }));
  proxy->end_session(*a);  // b still listens
  for (int i = 0; i < 20; ++i) loop.run_once(5);
  EXPECT_EQ(upstream_subscriptions(), 1u);
  proxy->end_session(*b);
  ASSERT_TRUE(until([&] { return upstream_subscriptions() == 0; }));
}

TEST_F(ProxyInterestTest, LegacySubscriptionsAreCountedPerSessionAndEndWithIt) {
  auto a = legacy_session(), b = legacy_session();
  send(a, subscribe("subscribe", 1));
  send(a, subscribe("subscribe", 2));  // again: still one of a's
  send(b, subscribe("subscribe", 3));
  ASSERT_TRUE(until([&] { return upstream_subscriptions() == 1; }));
  send(a, subscribe("unsubscribe", 4));
  send(a, subscribe("unsubscribe", 5));  // not a's any more: b's stays counted
  for (int i = 0; i < 20; ++i) loop.run_once(5);
  EXPECT_EQ(upstream_subscriptions(), 1u);
  proxy->end_session(*b);  // the last one: resources/unsubscribe upstream
  ASSERT_TRUE(until([&] { return upstream_subscriptions() == 0; }));
}

TEST_F(ProxyInterestTest, LegacyUpstreamGetsTheMostVerboseClientLevel) {
  auto terse = legacy_session(), open = legacy_session();  // `open` sets no level: gets all
  auto logs = [&](int id) {
    auto ch = send(open, R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                             R"(,"method":"tools/call","params":{"name":"web__logs"}})");
    EXPECT_TRUE(until([&] { return ch->count("logged") == 1; }));
    return std::pair{ch->count(R"("level":"debug")"), ch->count(R"("level":"error")")};
  };
  EXPECT_EQ(logs(1), (std::pair<size_t, size_t>{1, 1}));  // the upstream's own default
  auto ok = send(terse, R"({"jsonrpc":"2.0","id":2,"method":"logging/setLevel",)"
                        R"("params":{"level":"error"}})");
  ASSERT_EQ(ok->sent.size(), 1u);
  EXPECT_NE(ok->sent[0].find(R"("result":{})"), std::string::npos) << ok->sent[0];
  // The upstream was told error: `open` gets what the upstream still sends.
  EXPECT_EQ(logs(3), (std::pair<size_t, size_t>{0, 1}));
  send(open, R"({"jsonrpc":"2.0","id":4,"method":"logging/setLevel","params":{"level":"debug"}})");
  EXPECT_EQ(logs(5), (std::pair<size_t, size_t>{1, 1}));
  proxy->end_session(*open);  // terse's error is the most verbose left
  auto again = legacy_session();
  auto ch = send(again,
                 R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"web__logs"}})");
  ASSERT_TRUE(until([&] { return ch->count("logged") == 1; }));
  EXPECT_EQ(ch->count(R"("level":"debug")"), 0u);
  EXPECT_EQ(ch->count(R"("level":"error")"), 1u);
}

}  // namespace
}  // namespace fa::mcp
