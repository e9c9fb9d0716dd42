// MCP per-message cost in the C++ core: parse a tools/call, dispatch it to the Application,
// encode the result envelope, hand it to the channel (no I/O, no Python).
//
//   cmake -S . -B build/mcp -G Ninja -DCMAKE_BUILD_TYPE=Release -DFA_BUILD_BENCH=ON
//   cmake --build build/mcp -j2 --target mcp_bench
//   build/mcp/benchmarks/micro/mcp_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// BM_ToolCall is the target (<= 300 ns per message); BM_Parse and BM_Ping split it up.
//
// `mcp_bench --tool-calls=N` runs BM_ToolCall's loop body exactly N times outside the benchmark
// framework, for instruction counts that a noisy machine does not disturb (callgrind; see
// benchmarks/mcp/toolcall_instructions.py, which takes the difference of two such runs).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "mcp/jsonrpc.h"
#include "mcp/server_core.h"

namespace {

using namespace fa::mcp;

// The seed example's call, as the official SDK client sends it.
constexpr std::string_view kToolCall =
    R"({"method":"tools/call","params":{"name":"calculate","arguments":{"operation":"add","a":2,"b":3},)"
    R"("_meta":{"progressToken":1}},"jsonrpc":"2.0","id":4})";
constexpr std::string_view kResult =
    R"({"content":[{"type":"text","text":"5.0"}],"isError":false,"structuredContent":{"result":5.0}})";

struct CountingChannel final : Channel {
  size_t bytes = 0;
  void send(std::string_view message, bool, bool) override { bytes += message.size(); }
};

struct AnswerApp final : Application {
  void call(const Call& call, Reply reply) override {
    benchmark::DoNotOptimize(call.arguments.data());
    reply.result(kResult);
  }
  void cancel(uint64_t) override {}
};

void BM_Parse(benchmark::State& state) {
  Parser parser;
  Message msg;
  ParseFailure failure;
  for (auto _ : state) {
    bool ok = parser.parse(kToolCall, msg, failure);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(msg.params.data());
  }
  if (msg.method != "tools/call") state.SkipWithError("parse failed");
}
BENCHMARK(BM_Parse);

// One server with the tool registered and one session, as a stdio server has them.
struct ToolCallFixture {
  AnswerApp app;
  ServerCore core{app, ServerInfo{"bench", "1"}};
  std::shared_ptr<Session> session = std::make_shared<Session>();
  std::shared_ptr<CountingChannel> channel = std::make_shared<CountingChannel>();
  ToolCallFixture() {
    core.add_tool("calculate", R"({"name":"calculate","inputSchema":{"type":"object"}})");
  }
  [[gnu::always_inline]] Outcome once() { return core.handle(session, kToolCall, channel); }
};

void BM_ToolCall(benchmark::State& state) {
  ToolCallFixture f;
  for (auto _ : state) {
    Outcome outcome = f.once();
    benchmark::DoNotOptimize(outcome);
  }
  if (f.channel->bytes == 0) state.SkipWithError("no reply");
  state.counters["reply_bytes"] =
      static_cast<double>(f.channel->bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ToolCall);

// Exactly `n` iterations of BM_ToolCall's body; prints the reply bytes per call.
int fixed_tool_calls(long n) {
  ToolCallFixture f;
  for (long i = 0; i < n; ++i) {
    Outcome outcome = f.once();
    benchmark::DoNotOptimize(outcome);
  }
  if (n <= 0 || f.channel->bytes == 0) return 1;
  std::printf("%ld tool calls, %zu reply bytes each\n", n,
              f.channel->bytes / static_cast<size_t>(n));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr std::string_view kFixed = "--tool-calls=";
  if (argc == 2 && std::string_view(argv[1]).starts_with(kFixed))
    return fixed_tool_calls(std::strtol(argv[1] + kFixed.size(), nullptr, 10));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
