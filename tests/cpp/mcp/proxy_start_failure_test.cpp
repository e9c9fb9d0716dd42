// Upstreams that fail to start, on both loop backends (epoll and io_uring, each test runs on
// each): a connection refused, a command that does not exist, a process that exits at once.
// The start must fail promptly with the cause, the proxy must become ready and answer calls for
// that upstream with -32010, and nothing may be left waiting.
//
// The refused HTTP upstream is the case that hung on io_uring: the probe's connect failed inside
// the socket's own poll completion, the initialize fallback connected again at once and got the
// same fd number, and the ring never armed a poll for the new socket (its watcher was taken for
// the old one's), so the proxy waited forever.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "mcp/client/http_upstream.h"
#include "mcp/client/stdio_upstream.h"
#include "mcp/proxy/proxy_core.h"

namespace fa::mcp {
namespace {

using namespace std::chrono_literals;

// A port on which connections are refused: bound (so no one else takes it) but not listening.
struct RefusingPort {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  uint16_t port = 0;
  RefusingPort() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
  }
  ~RefusingPort() { ::close(fd); }
};

struct Recorder : Channel {
  std::vector<std::string> sent;
  void send(std::string_view message, bool, bool) override { sent.emplace_back(message); }
};

class StartFailure : public ::testing::TestWithParam<LoopBackend> {
 protected:
  EventLoop loop{GetParam()};

  template <typename F>
  bool pump(F& fut, std::chrono::milliseconds limit = 3s) {
    auto end = Clock::now() + limit;
    while (!fut.available() && Clock::now() < end) loop.run_once(5);
    return fut.available();
  }
  // The start's failure message ("" when it did not fail in time).
  std::string start_error(const std::shared_ptr<client::Upstream>& up) {
    auto started = up->start();
    if (!pump(started)) return "";
    if (!started.failed()) return "(started)";
    try {
      std::rethrow_exception(started.get_exception());
    } catch (const std::exception& e) {
      return e.what();
    }
  }
  // A proxy with one upstream made by `factory`: it must become ready, and a call to the
  // upstream must be answered -32010 (unavailable) with the cause.
  void expect_proxy_refuses(proxy::ProxyCore::Factory factory, std::string_view cause) {
    proxy::ProxyCore proxy(loop, ServerInfo{"proxy", "1"}, {});
    proxy.add_upstream("bad", std::move(factory));
    auto ready = proxy.start();
    ASSERT_TRUE(pump(ready)) << "the proxy never became ready";
    auto ch = std::make_shared<Recorder>();
    auto session = std::make_shared<Session>();  // the client's: replies go to live sessions
    proxy.handle(session,
                 R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"bad__x",)"
                 R"("arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                 R"("io.modelcontextprotocol/clientCapabilities":{}}}})",
                 ch);
    auto end = Clock::now() + 3s;
    while (ch->sent.empty() && Clock::now() < end) loop.run_once(5);
    ASSERT_EQ(ch->sent.size(), 1u) << "the call was never answered";
    EXPECT_NE(ch->sent[0].find(R"("code":-32010)"), std::string::npos) << ch->sent[0];
    EXPECT_NE(ch->sent[0].find(cause), std::string::npos) << ch->sent[0];
    EXPECT_EQ(proxy.in_flight(), 0u);
    proxy.close();
    for (int i = 0; i < 200 && !proxy.closed(); ++i) loop.run_once(5);
    EXPECT_TRUE(proxy.closed());
  }
};

TEST_P(StartFailure, RefusedHttpUpstreamFailsAtOnce) {
  RefusingPort refusing;
  ASSERT_NE(refusing.port, 0);
  client::UpstreamOptions o;
  o.timeout = 30s;  // far beyond the pump: only the refusal itself may end the start
  auto t0 = Clock::now();
  auto up = client::HttpUpstream::create(loop, {"127.0.0.1", refusing.port, "/mcp"}, o);
  std::string why = start_error(up);
  EXPECT_NE(why.find("Connection refused"), std::string::npos) << "start: '" << why << "'";
  EXPECT_LT(Clock::now() - t0, 2s);
  up->close();
}

TEST_P(StartFailure, ProxyWithARefusedHttpUpstreamBecomesReady) {
  RefusingPort refusing;
  ASSERT_NE(refusing.port, 0);
  EventLoop* l = &loop;
  client::HttpUrl url{"127.0.0.1", refusing.port, "/mcp"};
  expect_proxy_refuses([l, url] { return client::HttpUpstream::create(*l, url, {}); },
                       "Connection refused");
}

TEST_P(StartFailure, MissingCommand) {
  EventLoop* l = &loop;
  std::vector<std::string> argv{"/nonexistent/fasterapi-no-such-server"};
  auto up = client::StdioUpstream::create(loop, argv);
  EXPECT_NE(start_error(up).find("No such file"), std::string::npos);
  expect_proxy_refuses([l, argv] { return client::StdioUpstream::create(*l, argv); },
                       "No such file");
}

TEST_P(StartFailure, CommandThatExitsAtOnce) {
  EventLoop* l = &loop;
  std::vector<std::string> argv{"/bin/sh", "-c", "exit 3"};
  auto up = client::StdioUpstream::create(loop, argv);
  std::string why = start_error(up);
  EXPECT_NE(why, "") << "the start never failed";
  EXPECT_NE(why, "(started)");
  for (int i = 0; i < 200 && !up->finished(); ++i) loop.run_once(5);
  EXPECT_TRUE(up->finished());  // reaped
  EXPECT_EQ(up->returncode(), 3);
  expect_proxy_refuses([l, argv] { return client::StdioUpstream::create(*l, argv); },
                       "unavailable");
}

// Writes to a child that is gone fail with EPIPE instead of killing us (SIGPIPE is ignored
// here), and the child still gets SIGPIPE's default action, as under Popen.
TEST_P(StartFailure, ChildKeepsTheDefaultSigpipe) {
  std::vector<std::string> argv{"/bin/sh", "-c", "kill -PIPE $$; exit 0"};
  auto up = client::StdioUpstream::create(loop, argv);
  EXPECT_NE(start_error(up), "(started)");
  for (int i = 0; i < 200 && !up->finished(); ++i) loop.run_once(5);
  ASSERT_TRUE(up->finished());
  EXPECT_EQ(up->returncode(), -SIGPIPE);
}

INSTANTIATE_TEST_SUITE_P(Backends, StartFailure,
                         ::testing::Values(LoopBackend::kEpoll, LoopBackend::kUring),
                         [](const auto& info) { return loop_backend_name(info.param); });

}  // namespace
}  // namespace fa::mcp
