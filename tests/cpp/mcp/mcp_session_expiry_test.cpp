// Streamable HTTP session expiry (src/mcp/http_transport.h, HttpOptions::session_idle_timeout and
// max_sessions): a session with no request and no open stream past the timeout is ended as DELETE
// ends it (ServerCore::end_session) and its id gets 404 (2025-11-25 basic/transports.mdx
// "Session Management"); one the client still reads from stays. Open streams get a keep-alive
// comment every HttpOptions::sse_ping_interval.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/event_loop.h"
#include "mcp/http_transport.h"
#include "mcp/server_core.h"

namespace fa::mcp {
namespace {

using namespace std::chrono_literals;

struct HeldApp : Application {
  std::optional<Reply> held;
  std::vector<uint64_t> cancelled;
  void call(const Call&, Reply reply) override { held = std::move(reply); }
  void cancel(uint64_t call_id) override { cancelled.push_back(call_id); }
};

// Records every end_session, as the proxy's override (which withdraws subscriptions) would see it.
struct CountingCore : ServerCore {
  using ServerCore::ServerCore;
  std::vector<const Session*> ended;
  void end_session(Session& session) override {
    ended.push_back(&session);
    ServerCore::end_session(session);
  }
};

struct Responder : HttpResponder {
  int status = 0;
  std::string headers, body;
  bool open = true;  // false once ended or the client left
  void send(int s, std::string_view, std::string_view h, std::string_view b) override {
    status = s;
    headers = h;
    body = b;
    open = false;
  }
  void start(int s, std::string_view, std::string_view h) override {
    status = s;
    headers = h;
  }
  void write(std::string_view chunk) override { body += chunk; }
  void end() override { open = false; }
  bool alive() const override { return open; }
};

constexpr std::string_view kInit =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
    R"("capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
constexpr std::string_view kInitialized =
    R"({"jsonrpc":"2.0","method":"notifications/initialized"})";
constexpr std::string_view kPing = R"({"jsonrpc":"2.0","id":2,"method":"ping"})";
constexpr std::string_view kCall =
    R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"slow","arguments":{}}})";

struct Fixture : ::testing::Test {
  HeldApp app;
  CountingCore core{app, ServerInfo{"t", "1", "", ""}};
  EventLoop loop;
  std::unique_ptr<HttpTransport> http;

  void make(std::chrono::milliseconds timeout, size_t max_sessions = 100, bool with_loop = false,
            std::chrono::milliseconds ping = 15s) {
    HttpOptions o;
    o.session_idle_timeout = timeout;
    o.max_sessions = max_sessions;
    o.sse_ping_interval = ping;
    http = with_loop ? std::make_unique<HttpTransport>(loop, core, o)
                     : std::make_unique<HttpTransport>(core, o);
    core.add_tool("slow", R"({"name":"slow","inputSchema":{"type":"object"}})");
  }

  std::shared_ptr<Responder> exchange(std::string_view method, std::string_view body,
                                      const std::string& session) {
    auto res = std::make_shared<Responder>();
    HttpRequestView req{method, body, [&](std::string_view name) -> std::string_view {
                          if (name == "host") return "127.0.0.1";
                          if (name == "content-type") return "application/json";
                          if (name == "accept") return "application/json, text/event-stream";
                          if (name == "mcp-session-id") return session;
                          return {};
                        }};
    http->serve(req, res);
    return res;
  }

  // A new initialized session's id.
  std::string open_session() {
    auto res = exchange("POST", kInit, "");
    EXPECT_EQ(res->status, 200) << res->body;
    const std::string key = "Mcp-Session-Id: ";
    auto at = res->headers.find(key);
    EXPECT_NE(at, std::string::npos) << res->headers;
    if (at == std::string::npos) return {};
    std::string id = res->headers.substr(at + key.size());
    id.erase(id.find("\r\n"));
    EXPECT_EQ(exchange("POST", kInitialized, id)->status, 202);
    return id;
  }
};

using McpSessionExpiry = Fixture;

TEST_F(McpSessionExpiry, IdleSessionIsEndedAndItsIdGets404) {
  make(50ms);
  std::string id = open_session();
  ASSERT_EQ(http->sessions(), 1u);
  EXPECT_EQ(http->expire_idle(Clock::now() + 10ms), 0u);  // not idle long enough yet
  EXPECT_EQ(http->sessions(), 1u);
  EXPECT_TRUE(core.ended.empty());

  EXPECT_EQ(http->expire_idle(Clock::now() + 60ms), 1u);
  EXPECT_EQ(http->sessions(), 0u);
  EXPECT_EQ(core.ended.size(), 1u);  // ended as DELETE ends it
  auto after = exchange("POST", kPing, id);
  EXPECT_EQ(after->status, 404) << after->body;
  EXPECT_EQ(exchange("GET", "", id)->status, 404);
  EXPECT_EQ(exchange("DELETE", "", id)->status, 404);
  EXPECT_EQ(core.ended.size(), 1u);  // once only
}

TEST_F(McpSessionExpiry, OpenGetStreamKeepsTheSessionUntilItCloses) {
  make(50ms);
  std::string streaming = open_session(), idle = open_session();
  auto stream = exchange("GET", "", streaming);
  ASSERT_EQ(stream->status, 200);
  ASSERT_TRUE(stream->open);

  TimePoint t1 = Clock::now() + 60ms;
  EXPECT_EQ(http->expire_idle(t1), 1u);  // only the one without a stream
  EXPECT_EQ(exchange("POST", kPing, idle)->status, 404);
  EXPECT_EQ(http->sessions(), 1u);

  // The client goes away: idle from the last sweep that saw its stream open (t1).
  stream->open = false;
  EXPECT_EQ(http->expire_idle(t1 + 10ms), 0u);
  EXPECT_EQ(http->expire_idle(t1 + 60ms), 1u);
  EXPECT_EQ(exchange("POST", kPing, streaming)->status, 404);
  EXPECT_EQ(core.ended.size(), 2u);
}

TEST_F(McpSessionExpiry, PendingPostKeepsTheSessionAndExpiryCancelsDetachedWork) {
  make(50ms);
  std::string id = open_session();
  auto call = exchange("POST", kCall, id);  // the tool holds its reply: the response is open
  ASSERT_TRUE(app.held.has_value());
  TimePoint t1 = Clock::now() + 60ms;
  EXPECT_EQ(http->expire_idle(t1), 0u);
  EXPECT_TRUE(app.cancelled.empty());

  call->open = false;  // the client hung up on the POST: nothing is in use any more
  EXPECT_EQ(http->expire_idle(t1 + 60ms), 1u);
  EXPECT_EQ(app.cancelled.size(), 1u);  // end_session cancels what is still in flight
}

TEST_F(McpSessionExpiry, ARequestRefreshesTheSession) {
  make(50ms, 100, /*with_loop=*/true);  // activity is stamped with the loop's clock
  TimePoint t0 = loop.update_now();
  std::string id = open_session();
  std::this_thread::sleep_for(30ms);
  TimePoint t2 = loop.update_now();
  ASSERT_EQ(exchange("POST", kPing, id)->status, 200);
  EXPECT_EQ(http->expire_idle(t0 + 60ms), 0u);  // idle 60 ms since initialize, 30 since the ping
  EXPECT_EQ(http->expire_idle(t2 + 50ms), 1u);
}

TEST_F(McpSessionExpiry, OneSweepTimerOnTheLoopEndsIdleSessions) {
  make(40ms, 100, /*with_loop=*/true);
  const size_t timers = loop.timer_heap_size();
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(open_session());
  EXPECT_EQ(loop.timer_heap_size(), timers);  // no timer per session
  auto deadline = Clock::now() + 2s;
  while (http->sessions() > 0 && Clock::now() < deadline) loop.run_once(10);
  EXPECT_EQ(http->sessions(), 0u);
  EXPECT_EQ(core.ended.size(), 20u);
  for (const auto& id : ids) EXPECT_EQ(exchange("POST", kPing, id)->status, 404);
}

TEST_F(McpSessionExpiry, ZeroTimeoutNeverExpires) {
  make(0ms);
  std::string id = open_session();
  EXPECT_EQ(http->expire_idle(Clock::now() + 24h), 0u);
  EXPECT_EQ(exchange("POST", kPing, id)->status, 200);
}

TEST_F(McpSessionExpiry, FullServerRefusesInitializeUntilASessionExpires) {
  make(50ms, 2);
  std::string a = open_session(), b = open_session();
  auto refused = exchange("POST", kInit, "");
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("Too many open sessions"), std::string::npos) << refused->body;
  EXPECT_EQ(exchange("POST", kPing, a)->status, 200);  // live sessions are not evicted
  EXPECT_EQ(exchange("POST", kPing, b)->status, 200);

  EXPECT_EQ(http->expire_idle(Clock::now() + 60ms), 2u);
  EXPECT_FALSE(open_session().empty());
}

TEST_F(McpSessionExpiry, MountedTransportExpiresBeforeServingARequest) {
  // No loop: the idle scan runs when a request arrives (at most every timeout / 8).
  make(20ms);
  std::string id = open_session();
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(exchange("POST", kPing, id)->status, 404);
  EXPECT_EQ(core.ended.size(), 1u);
}

// The GET stream and a POST answered as an SSE stream get ": ping" comments on the sweep; a POST
// whose answer is still to come as JSON gets none, nor a stream whose client left.
TEST_F(McpSessionExpiry, OpenStreamsGetKeepAliveComments) {
  make(0ms, 100, /*with_loop=*/true, /*ping=*/40ms);
  std::string id = open_session();
  auto stream = exchange("GET", "", id);
  ASSERT_EQ(stream->status, 200);
  auto json_call = exchange("POST", kCall, id);  // held: its answer will be plain JSON
  ASSERT_TRUE(app.held.has_value());
  Reply json_reply = *app.held;
  constexpr std::string_view kProgressCall =
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"slow","arguments":{},)"
      R"("_meta":{"progressToken":7}}})";
  auto sse_call = exchange("POST", kProgressCall, id);
  ASSERT_TRUE(app.held->progress(1, 2, "half"));  // the answer is now an SSE stream
  ASSERT_EQ(sse_call->status, 200);

  auto pings = [](const Responder& r) {
    size_t n = 0;
    for (size_t at = r.body.find(": ping\n\n"); at != std::string::npos;
         at = r.body.find(": ping\n\n", at + 1))
      ++n;
    return n;
  };
  auto run_for = [&](std::chrono::milliseconds d) {
    auto until = Clock::now() + d;
    while (Clock::now() < until) loop.run_once(5);
  };
  run_for(300ms);
  EXPECT_GE(pings(*stream), 2u) << stream->body;
  EXPECT_GE(pings(*sse_call), 2u) << sse_call->body;
  EXPECT_LE(pings(*stream), 10u);  // about one per 40 ms, not one per sweep
  EXPECT_TRUE(json_call->body.empty()) << json_call->body;

  stream->open = false;  // the client left: nothing more is written to it
  size_t before = stream->body.size();
  run_for(150ms);
  EXPECT_EQ(stream->body.size(), before);
  EXPECT_TRUE(json_reply.result(R"({"content":[]})"));
  EXPECT_EQ(json_call->status, 200);
  EXPECT_EQ(json_call->body.find(": ping"), std::string::npos);  // a JSON body stays JSON
}

}  // namespace
}  // namespace fa::mcp
