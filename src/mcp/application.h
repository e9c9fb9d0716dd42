// Application: what the protocol core asks of the code that owns the tools, resources and
// prompts (the Python bindings, a C++ program, a test). Calls are answered later through a Reply.
#pragma once

#include <cstdint>
#include <string_view>

#include "mcp/reply.h"

namespace fa::mcp {

enum class CallKind : uint8_t { kTool, kResource, kPrompt, kCompletion };

// One upcall; every view is valid only during Application::call.
struct Call {
  CallKind kind = CallKind::kTool;
  // Index returned by ServerCore::add_tool/add_resource/add_prompt; -1 for a resource URI that
  // matched no static resource (the application matches its URI templates) and for completions.
  int index = -1;
  std::string_view name;       // tool or prompt name, resource URI; empty for completions
  std::string_view arguments;  // raw JSON object of "arguments"; empty when absent
  std::string_view params;     // the request's raw params object
};

class Application {
 public:
  virtual ~Application() = default;
  // Answers the call through `reply`, now or later (reply.result / reply.error).
  virtual void call(const Call& call, Reply reply) = 0;
  // The client cancelled call `call_id` (notifications/cancelled); its reply is already void.
  virtual void cancel(uint64_t call_id) = 0;
  // The client answered request `number` sent by Reply::request: `ok` with the raw JSON of its
  // result, or not ok with the raw JSON of its error object. Default: ignored.
  virtual void response(uint64_t number, bool ok, std::string_view json) {}
};

}  // namespace fa::mcp
