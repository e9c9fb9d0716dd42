// The upstream connections (src/mcp/client) surfacing what a server sends on its own: server
// notifications (logging, progress, list_changed) and server-to-client requests (sampling,
// elicitation, roots, ping) answered through respond(), over Streamable HTTP (the POST's SSE
// stream and the standalone GET stream) and stdio; SSE resumption with Last-Event-ID; DELETE on
// shutdown; the stdio child's environment, working directory and exit status. The servers are
// our own MCP server core: in this process over HTTP, and this binary re-executed over stdio
// (FA_CLIENT_TEST_STDIO_SERVER=1).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "mcp/client/fd_stream.h"
#include "mcp/client/http_upstream.h"
#include "mcp/client/stdio_upstream.h"
#include "mcp/http_transport.h"
#include "mcp/server_core.h"
#include "mcp/stdio_transport.h"

namespace fa::mcp {
namespace {

// ask: sends sampling/createMessage to the client and answers with the client's result.
// chat: logs and reports progress, then answers. resume: closes its SSE stream, answers 100 ms
// later (the client must resume). exit7: the process exits with status 7 (stdio only).
// env: answers with $FA_CLIENT_TEST_VALUE and the working directory.
struct App : Application {
  EventLoop* loop = nullptr;
  std::vector<Reply> asking;
  void call(const Call& c, Reply reply) override {
    if (c.name == "ask") {
      std::string method = "sampling/createMessage";
      if (c.arguments.find("elicit") != std::string_view::npos) method = "elicitation/create";
      if (c.arguments.find("roots") != std::string_view::npos) method = "roots/list";
      if (reply.request(method, R"({"messages":[]})") == 0) reply.error(-32603, "not sent");
      asking.push_back(reply);
    } else if (c.name == "chat") {
      reply.log(LogLevel::kInfo, "chat", R"("hello from the server")");
      reply.progress(1, 2, "half");
      reply.result(R"({"content":[{"type":"text","text":"chatted"}]})");
    } else if (c.name == "resume") {
      reply.log(LogLevel::kInfo, "resume", R"("streaming")");  // the answer is an SSE stream now
      reply.close_stream();
      loop->call_later(std::chrono::milliseconds(100), [reply]() mutable {
        reply.result(R"({"content":[{"type":"text","text":"resumed"}]})");
      });
    } else if (c.name == "exit7") {
      std::_Exit(7);
    } else if (c.name == "region") {
      reply.result(R"({"content":[{"type":"text","text":"routed"}]})");
    } else if (c.name == "h\xc3\xa9 llo ") {
      reply.result(R"({"content":[{"type":"text","text":"unicode"}]})");
    } else if (c.name == "env") {
      const char* v = std::getenv("FA_CLIENT_TEST_VALUE");
      char cwd[4096] = {};
      if (!::getcwd(cwd, sizeof cwd)) cwd[0] = 0;
      reply.result(std::string(R"({"value":")") + (v ? v : "") + R"(","cwd":")" + cwd + "\"}");
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

void register_tools(ServerCore& core) {
  for (const char* name : {"ask", "chat", "resume", "exit7", "env", "h\xc3\xa9 llo "})
    core.add_tool(name,
                  std::string(R"({"name":")") + name + R"(","inputSchema":{"type":"object"}})");
  // region: its argument is mirrored into Mcp-Param-Region (2026-07-28 x-mcp-header).
  core.add_tool("region", R"({"name":"region","inputSchema":{"type":"object","properties":)"
                          R"({"region":{"type":"string","x-mcp-header":"Region"}}}})");
  core.set_tool_headers("region", {ParamHeader{"region", "region"}});
}

struct StdioServerMain {
  StdioServerMain() {
    if (!std::getenv("FA_CLIENT_TEST_STDIO_SERVER")) return;
    EventLoop loop;
    App app;
    app.loop = &loop;
    ServerCore core(app, ServerInfo{"stdio-server", "1"});
    register_tools(core);
    StdioTransport t(loop, core, 0, 1);
    bool closed = false;
    t.on_closed([&] { closed = true; });
    if (!t.start()) std::_Exit(2);
    while (!closed) loop.run_once(100);
    std::_Exit(0);
  }
} stdio_server_main;

constexpr const char* kCapabilities = R"({"sampling":{},"elicitation":{"form":{}},"roots":{}})";

struct ClientUpstreamTest : ::testing::Test {
  EventLoop loop;
  App app;
  ServerCore core{app, ServerInfo{"http-server", "1"}};
  std::unique_ptr<HttpTransport> http;
  uint16_t port = 0;
  std::vector<std::pair<std::string, std::string>> notes;     // method, params
  std::vector<std::pair<std::string, std::string>> requests;  // method, id

  void SetUp() override {
    ::setenv("FA_CLIENT_TEST_STDIO_SERVER", "1", 1);
    app.loop = &loop;
    register_tools(core);
    HttpOptions o;
    o.port = 0;
    http = std::make_unique<HttpTransport>(loop, core, o);
    port = http->listen();
  }
  void TearDown() override { ::unsetenv("FA_CLIENT_TEST_STDIO_SERVER"); }

  client::UpstreamOptions options(bool modern = false) {
    client::UpstreamOptions uo;
    uo.timeout = std::chrono::seconds(5);
    uo.probe_modern = modern;
    uo.capabilities = kCapabilities;
    return uo;
  }
  std::shared_ptr<client::HttpUpstream> http_upstream(bool modern = false) {
    return client::HttpUpstream::create(loop, client::HttpUrl{"127.0.0.1", port, "/mcp"},
                                        options(modern));
  }
  std::shared_ptr<client::StdioUpstream> stdio_upstream(client::StdioOptions so = {}) {
    return client::StdioUpstream::create(loop, {"/proc/self/exe"}, options(), std::move(so));
  }
  // Records notifications; answers sampling/elicitation/roots with a result naming the method.
  void handle(client::Upstream& up) {
    up.on_notification([this](std::string_view m, std::string_view p) {
      notes.emplace_back(std::string(m), std::string(p));
    });
    up.on_request([this, &up](std::string_view id, std::string_view method, std::string_view) {
      requests.emplace_back(std::string(method), std::string(id));
      up.respond(id, std::string(R"({"answered":")") + std::string(method) + "\"}");
    });
  }
  template <typename F>
  void pump(F& fut, int max_ms = 10000) {
    for (int i = 0; i < max_ms / 5 && !fut.available(); ++i) loop.run_once(5);
    ASSERT_TRUE(fut.available());
  }
  template <typename P>
  void pump_until(P pred, int max_ms = 5000) {
    for (int i = 0; i < max_ms / 5 && !pred(); ++i) loop.run_once(5);
  }
  client::Response call(client::Upstream& up, std::string_view name, std::string_view args = "{}") {
    std::string members =
        std::string(R"("name":")") + std::string(name) + R"(","arguments":)" + std::string(args);
    auto f = up.call(client::Request{"tools/call", members, {}, name});
    pump(f);
    return f.get();
  }
  void start(client::Upstream& up) {
    auto f = up.start();
    pump(f);
    ASSERT_FALSE(f.failed());
  }
  void finish(const std::shared_ptr<client::Upstream>& up) {
    auto f = up->shutdown();
    pump(f);
    pump_until([&] { return up->finished(); });
    EXPECT_TRUE(up->finished());
  }
};

TEST_F(ClientUpstreamTest, HttpServerRequestsAreAnsweredThroughRespond) {
  auto up = http_upstream();
  handle(*up);
  start(*up);
  for (const char* which : {"sample", "elicit", "roots"}) {
    auto r = call(*up, "ask", std::string(R"({"which":")") + which + "\"}");
    ASSERT_TRUE(r.ok) << r.message;
    EXPECT_NE(r.result.find(R"("ok":true)"), std::string::npos) << r.result;
    EXPECT_NE(r.result.find(R"("answered":")"), std::string::npos) << r.result;
  }
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].first, "sampling/createMessage");
  EXPECT_EQ(requests[1].first, "elicitation/create");
  EXPECT_EQ(requests[2].first, "roots/list");
  finish(up);
}

TEST_F(ClientUpstreamTest, StdioServerRequestsAreAnsweredThroughRespond) {
  auto up = stdio_upstream();
  handle(*up);
  start(*up);
  auto r = call(*up, "ask", R"({"which":"elicit"})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_NE(r.result.find(R"("answered":"elicitation/create")"), std::string::npos) << r.result;
  ASSERT_EQ(requests.size(), 1u);
  finish(up);
  EXPECT_EQ(up->returncode(), 0);
}

TEST_F(ClientUpstreamTest, WithoutAHandlerRequestsAreRefused) {
  auto up = stdio_upstream();
  start(*up);
  auto r = call(*up, "ask");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_NE(r.result.find(R"("ok":false)"), std::string::npos) << r.result;
  EXPECT_NE(r.result.find("-32601"), std::string::npos) << r.result;
  finish(up);
}

TEST_F(ClientUpstreamTest, NotificationsOnTheAnswerStreamAndStdio) {
  for (int kind = 0; kind < 2; ++kind) {
    notes.clear();
    std::shared_ptr<client::Upstream> up;
    if (kind == 0)
      up = http_upstream();
    else
      up = stdio_upstream();
    handle(*up);
    start(*up);
    auto f = up->call(client::Request{"tools/call", R"("name":"chat","arguments":{})",
                                      R"("progressToken":"t1")", "chat"});
    pump(f);
    ASSERT_TRUE(f.get().ok);
    std::vector<std::string> methods;
    for (auto& [m, p] : notes) methods.push_back(m);
    EXPECT_NE(std::find(methods.begin(), methods.end(), "notifications/message"), methods.end());
    EXPECT_NE(std::find(methods.begin(), methods.end(), "notifications/progress"), methods.end());
    for (auto& [m, p] : notes)
      if (m == "notifications/progress")
        EXPECT_NE(p.find(R"("progressToken":"t1")"), std::string::npos) << p;
    finish(up);
  }
}

TEST_F(ClientUpstreamTest, HttpGetStreamCarriesListChanged) {
  auto up = http_upstream();
  handle(*up);
  start(*up);
  ASSERT_FALSE(up->session_id().empty());
  EXPECT_TRUE(up->listening());
  // The server can reach the session once the GET stream is open.
  size_t told = 0;
  pump_until([&] {
    if (told == 0) told = core.notify_list_changed("tools");
    for (auto& [m, p] : notes)
      if (m == "notifications/tools/list_changed") return true;
    return false;
  });
  EXPECT_GE(told, 1u);
  bool seen = false;
  for (auto& [m, p] : notes) seen = seen || m == "notifications/tools/list_changed";
  EXPECT_TRUE(seen);
  finish(up);
}

TEST_F(ClientUpstreamTest, HttpShutdownDeletesTheSession) {
  auto up = http_upstream();
  start(*up);
  ASSERT_FALSE(up->session_id().empty());
  EXPECT_EQ(http->sessions(), 1u);
  finish(up);
  EXPECT_EQ(http->sessions(), 0u);  // DELETE reached the server (transports.mdx)
}

TEST_F(ClientUpstreamTest, HttpSseStreamClosedEarlyIsResumed) {
  auto up = http_upstream();
  start(*up);
  auto r = call(*up, "resume");
  ASSERT_TRUE(r.ok) << r.code << " " << r.message;
  EXPECT_NE(r.result.find("resumed"), std::string::npos) << r.result;
  finish(up);
}

TEST(HeaderValue, PlainAsIsElseBase64Sentinel) {
  auto enc = [](std::string_view v) {
    std::string out;
    client::append_header_value(out, v);
    return out;
  };
  EXPECT_EQ(enc("add"), "add");
  EXPECT_EQ(enc(" add"), "=?base64?IGFkZA==?=");
  EXPECT_EQ(enc("h\xc3\xa9"), "=?base64?aMOp?=");
  EXPECT_EQ(enc("ab\n"), "=?base64?YWIK?=");
  EXPECT_EQ(enc("a b"), "a b");
  EXPECT_EQ(enc("\tx"), "=?base64?CXg=?=");
  // A plain value shaped like the sentinel is encoded too, so it cannot be misread.
  EXPECT_EQ(enc("=?base64?literal?="), "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
  EXPECT_EQ(enc("=?base64?"), "=?base64?");
  EXPECT_EQ(enc(""),
            "=?base64?"
            "?=");  // split: "??=" would be a trigraph
}

TEST(HeaderName, TokenCharactersOnly) {
  EXPECT_TRUE(client::is_token("Region"));
  EXPECT_TRUE(client::is_token("X-Trace_id.v2!"));
  for (const char* bad :
       {"", "My Region", "Region:Primary", "R\xc3\xa9gion", "Region\t1", "a\r\nb"})
    EXPECT_FALSE(client::is_token(bad)) << bad;
}

TEST_F(ClientUpstreamTest, ModernParamHeadersMirrorTheAnnotatedArgument) {
  // The server checks Mcp-Param-Region against arguments.region: missing or different is
  // 400 / -32020 (2026-07-28 streamable-http.mdx "Server Behavior for Custom Headers").
  auto up = http_upstream(/*modern=*/true);
  start(*up);
  ASSERT_TRUE(up->modern());
  auto send = [&](std::string_view args, std::vector<client::ParamHeader> headers) {
    std::string members = std::string(R"("name":"region","arguments":)") + std::string(args);
    client::Request req{"tools/call", members, {}, "region"};
    req.param_headers = headers;
    auto f = up->call(req);
    pump(f);
    return f.get();
  };
  auto ok = send(R"({"region":"us west 1"})", {{"Region", "us west 1"}});
  ASSERT_TRUE(ok.ok) << ok.code << " " << ok.message;
  EXPECT_NE(ok.result.find("routed"), std::string::npos) << ok.result;
  auto encoded = send(R"({"region":" h\u00e9 "})", {{"Region", " h\xc3\xa9 "}});
  ASSERT_TRUE(encoded.ok) << encoded.code << " " << encoded.message;
  auto missing = send(R"({"region":"eu"})", {});
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.code, -32020) << missing.message;
  auto other = send(R"({"region":"eu"})", {{"Region", "us"}});
  EXPECT_EQ(other.code, -32020) << other.message;
  // A name that is not a token is not sent: no header, so the server misses it.
  auto bad = send(R"({"region":"eu"})", {{"Region\r\nX-Evil", "eu"}});
  EXPECT_EQ(bad.code, -32020) << bad.message;
  finish(up);
}

TEST_F(ClientUpstreamTest, ModernNonAsciiNameIsSentBase64Encoded) {
  // The server checks Mcp-Name against params.name (2026-07-28 streamable-http.mdx): a name
  // left out or mis-encoded is refused with 400 / -32020.
  auto up = http_upstream(/*modern=*/true);
  start(*up);
  ASSERT_TRUE(up->modern());
  auto r = call(*up, "h\xc3\xa9 llo ");
  ASSERT_TRUE(r.ok) << r.code << " " << r.message;
  EXPECT_NE(r.result.find("unicode"), std::string::npos) << r.result;
  finish(up);
}

TEST_F(ClientUpstreamTest, StdioChildEnvironmentDirectoryAndExitStatus) {
  client::StdioOptions so;
  so.env = std::vector<std::string>{"FA_CLIENT_TEST_STDIO_SERVER=1", "FA_CLIENT_TEST_VALUE=xyz"};
  so.cwd = "/tmp";
  so.grace = std::chrono::milliseconds(300);
  auto up = stdio_upstream(so);
  std::string closed;
  up->on_closed([&](std::string_view why) { closed.assign(why); });
  start(*up);
  auto r = call(*up, "env");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_NE(r.result.find(R"("value":"xyz")"), std::string::npos) << r.result;
  EXPECT_NE(r.result.find(R"("cwd":"/tmp")"), std::string::npos) << r.result;
  auto dead = call(*up, "exit7");
  EXPECT_FALSE(dead.ok);
  EXPECT_EQ(dead.code, client::kConnectionClosed);
  EXPECT_NE(dead.message.find("exited with code 7"), std::string::npos) << dead.message;
  EXPECT_NE(closed.find("exited with code 7"), std::string::npos) << closed;
  EXPECT_EQ(up->returncode(), 7);
  finish(up);
}

// FdStream on a pipe stops reading at a short read (the pipe is drained) and waits for the next
// readiness event: a message split across writes is still assembled, a full chunk is followed by
// the rest in the same event round, and EOF after the last bytes is still reported, on both loop
// backends (epoll level-triggered; io_uring's one-shot poll re-armed after dispatch).
TEST(FdStreamPipe, ShortReadWaitsForTheNextEventWithoutStrandingBytes) {
  for (LoopBackend backend : {LoopBackend::kEpoll, LoopBackend::kUring}) {
    SCOPED_TRACE(loop_backend_name(backend));
    EventLoop loop(backend);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    std::string got;
    int closed = -1;
    client::FdStream::Callbacks cb;
    cb.on_data = [&](std::string_view b) { got.append(b); };
    cb.on_closed = [&](int e) { closed = e; };
    auto stream = client::FdStream::open(loop, p[0], false, true, cb);
    auto spin = [&](auto done) {
      for (int i = 0; i < 200 && !done(); ++i) loop.run_once(10);
    };
    ASSERT_EQ(::write(p[1], "{\"a\":", 5), 5);
    spin([&] { return got.size() == 5; });
    EXPECT_EQ(got, "{\"a\":");
    ASSERT_EQ(::write(p[1], "1}\n", 3), 3);
    spin([&] { return got.size() == 8; });
    EXPECT_EQ(got, "{\"a\":1}\n");
    // More than one read chunk at once: the full first read goes on to the rest.
    std::string big(client::FdStream::kReadChunkBytes + 100, 'x');
    got.clear();
    ASSERT_EQ(::fcntl(p[1], F_SETFL, ::fcntl(p[1], F_GETFL) | O_NONBLOCK), 0);
    size_t off = 0;
    for (int i = 0; i < 1000 && got.size() < big.size(); ++i) {
      if (off < big.size()) {
        ssize_t n = ::write(p[1], big.data() + off, big.size() - off);
        if (n > 0) off += static_cast<size_t>(n);
      }
      loop.run_once(10);
    }
    EXPECT_EQ(got.size(), big.size());
    // The last bytes and EOF together: both arrive.
    got.clear();
    ASSERT_EQ(::write(p[1], "tail", 4), 4);
    ::close(p[1]);
    spin([&] { return closed >= 0; });
    EXPECT_EQ(got, "tail");
    EXPECT_EQ(closed, 0);
    EXPECT_TRUE(stream->closed());
  }
}

}  // namespace
}  // namespace fa::mcp
