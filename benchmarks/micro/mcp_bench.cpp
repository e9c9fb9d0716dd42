// MCP per-message cost in the C++ core: parse a tools/call, dispatch it to the Application,
// encode the result envelope, hand it to the channel (no I/O, no Python).
//
//   cmake -S . -B build/mcp -G Ninja -DCMAKE_BUILD_TYPE=Release -DFA_BUILD_BENCH=ON
//   cmake --build build/mcp -j2 --target mcp_bench
//   build/mcp/benchmarks/micro/mcp_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// BM_ToolCall is the target (<= 300 ns per message); BM_Parse and BM_Ping split it up.
#include <benchmark/benchmark.h>

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

void BM_ToolCall(benchmark::State& state) {
  AnswerApp app;
  ServerCore core(app, ServerInfo{"bench", "1"});
  core.add_tool("calculate", R"({"name":"calculate","inputSchema":{"type":"object"}})");
  auto session = std::make_shared<Session>();
  auto channel = std::make_shared<CountingChannel>();
  for (auto _ : state) {
    Outcome outcome = core.handle(session, kToolCall, channel);
    benchmark::DoNotOptimize(outcome);
  }
  if (channel->bytes == 0) state.SkipWithError("no reply");
  state.counters["reply_bytes"] = static_cast<double>(channel->bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ToolCall);

void BM_Ping(benchmark::State& state) {
  AnswerApp app;
  ServerCore core(app, ServerInfo{"bench", "1"});
  auto session = std::make_shared<Session>();
  auto channel = std::make_shared<CountingChannel>();
  for (auto _ : state) benchmark::DoNotOptimize(core.handle(session, R"({"jsonrpc":"2.0","id":1,"method":"ping"})", channel));
}
BENCHMARK(BM_Ping);

}  // namespace

BENCHMARK_MAIN();
