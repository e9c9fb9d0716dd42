// StdioTransport over pipes: framing, oversized lines, EOF.
#include "mcp/stdio_transport.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace fa::mcp {
namespace {

struct EchoApp : Application {
  void call(const Call& c, Reply reply) override {
    reply.result("{\"echo\":" + std::string(c.arguments.empty() ? "null" : c.arguments) + "}");
  }
  void cancel(uint64_t) override {}
};

struct Pipes {
  int in[2], out[2];
  Pipes() {
    EXPECT_EQ(::pipe(in), 0);
    EXPECT_EQ(::pipe(out), 0);
  }
  ~Pipes() {
    for (int fd : {in[0], in[1], out[0], out[1]})
      if (fd >= 0) ::close(fd);
  }
};

// `slow_reader`: the output is read while the loop runs, by a reader that starts late, so
// replies larger than the pipe's buffer are written in parts (a short writev, then EAGAIN).
std::string run(const std::string& input, bool slow_reader = false) {
  EventLoop loop;
  EchoApp app;
  ServerCore core(app, ServerInfo{"t", "1"});
  core.add_tool("echo", R"({"name":"echo"})");
  Pipes p;
  StdioTransport t(loop, core, p.in[0], p.out[1]);
  bool closed = false;
  t.on_closed([&] { closed = true; });
  EXPECT_TRUE(t.start());
  // A writer thread: input larger than the pipe's buffer must flow while the loop reads.
  int writer_fd = p.in[1];
  p.in[1] = -1;
  std::thread writer([&input, writer_fd] {
    size_t off = 0;
    while (off < input.size()) {
      ssize_t n = ::write(writer_fd, input.data() + off, input.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(writer_fd);
  });
  std::string output;
  auto drain = [&output, fd = p.out[0]] {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) output.append(buf, static_cast<size_t>(n));
  };
  std::thread reader;
  if (slow_reader)
    reader = std::thread([&drain] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      drain();
    });
  for (int i = 0; i < 1000 && !closed; ++i) loop.run_once(10);
  writer.join();
  EXPECT_TRUE(closed);
  ::close(p.out[1]);
  p.out[1] = -1;
  if (slow_reader)
    reader.join();
  else
    drain();
  return output;
}

TEST(McpStdioTransport, AnswersEachLineAndExitsOnEof) {
  std::string out = run(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
      "\n"
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"a\":1}}}\r\n"
      "garbage\n"
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}");  // last line unterminated
  EXPECT_EQ(out,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"echo\":{\"a\":1}}}\n"
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\"}}\n"
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}\n");
}

TEST(McpStdioTransport, OversizedLineIsRefusedAndTheNextOneServed) {
  std::string big(kMaxMessageBytes + 10, 'x');
  std::string out = run(big + "\n{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}\n");
  EXPECT_EQ(out,
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request: message too large\"}}\n"
            "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}\n");
}

TEST(McpStdioTransport, RepliesLargerThanThePipeGoOutWholeAndInOrder) {
  std::string input, expected;
  for (int i = 1; i <= 3; ++i) {
    std::string value(200 * 1024, static_cast<char>('a' + i));  // > a pipe's 64 KiB buffer
    std::string args = "{\"v\":\"" + value + "\"}";
    input += "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(i) +
             ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":" + args +
             "}}\n";
    expected += "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(i) +
                ",\"result\":{\"echo\":" + args + "}}\n";
  }
  input += "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}\n";
  expected += "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}\n";
  std::string out = run(input, /*slow_reader=*/true);
  EXPECT_EQ(out.size(), expected.size());
  EXPECT_TRUE(out == expected);  // not EXPECT_EQ: 600 KiB would flood the log
}

}  // namespace
}  // namespace fa::mcp
