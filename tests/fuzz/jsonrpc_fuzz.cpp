// libFuzzer target: JSON-RPC parsing and MCP dispatch on arbitrary bytes. Must never crash,
// hang or answer anything but one well-formed envelope per request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mcp/server_core.h"

namespace {

struct NullChannel : fa::mcp::Channel {
  void send(std::string_view, bool, bool) override {}
};

struct EchoApp : fa::mcp::Application {
  void call(const fa::mcp::Call& c, fa::mcp::Reply reply) override {
    // A call that may become a task does (SEP-2663), asks for input once, then completes.
    if (reply.tasks_allowed()) reply.create_task(60000, 100);
    reply.progress(1, 2, c.name);
    reply.log(fa::mcp::LogLevel::kInfo, c.name, "null");
    reply.request("elicitation/create", "{}");
    reply.result("{}");
  }
  void cancel(uint64_t) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static EchoApp app;
  // Built once, in place (ServerCore is neither copyable nor movable).
  static fa::mcp::ServerCore& core = *[] {
    auto* c = new fa::mcp::ServerCore(app, fa::mcp::ServerInfo{"fuzz", "1"});
    c->add_tool("t", R"({"name":"t"})");
    c->add_prompt("p", R"({"name":"p"})");
    c->add_resource("r://x", R"({"uri":"r://x","name":"x"})");
    c->set_page_size(1);
    c->set_tasks(true);
    return c;
  }();
  static auto channel = std::make_shared<NullChannel>();
  auto session = std::make_shared<fa::mcp::Session>();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  fa::mcp::Message msg;
  fa::mcp::ParseFailure failure;
  session->parser.parse(text, msg, failure);
  std::vector<std::pair<std::string, std::string>> members;  // tasks/update's inputResponses reader
  session->parser.object_members(text, members);
  core.handle(session, text, channel);
  return 0;
}
