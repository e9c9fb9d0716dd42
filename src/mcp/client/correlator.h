// JSON-RPC id correlation for an MCP client, sans I/O: numbers outgoing requests, keeps one
// promise per request in flight, and resolves it from the answer the transport read (parsed with
// mcp/jsonrpc.h). Knows nothing of pipes or sockets; the transport writes what it encodes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/future.h"
#include "mcp/jsonrpc.h"

namespace fa::mcp::client {

// The answer to one request: `result` (raw JSON) or an error object's fields.
struct Response {
  bool ok = false;
  std::string result;   // raw JSON of "result" when ok
  int code = 0;         // error.code
  std::string message;  // error.message
  std::string data;     // raw JSON of error.data, empty when absent
  // The error was made here (timeout, connection closed), not answered by the server: what a
  // circuit breaker counts as the upstream failing.
  bool local = false;
};

// Error codes the client gives requests that got no answer (the official SDK's values).
inline constexpr int kConnectionClosed = -32000;
inline constexpr int kRequestTimeout = -32001;

class Correlator {
 public:
  // What on_message() found.
  enum class Incoming : uint8_t {
    kAnswered,      // a response or error for a pending request: its future is now ready
    kUnknownId,     // a response for no pending request (late, after a timeout or cancel)
    kRequest,       // a server-to-client request (ping, sampling, ...): see message()
    kNotification,  // a server notification (progress, logging, list_changed): see message()
    kInvalid,       // not a JSON-RPC message
  };

  // Encodes request `method` (params: raw JSON object or empty) into `out` (appended) with the
  // next id, stored in `id`; returns the future its answer resolves.
  future<Response> request(std::string& out, std::string_view method, std::string_view params_json,
                           uint64_t& id);
  // Encodes a notification into `out` (appended).
  static void notification(std::string& out, std::string_view method, std::string_view params_json);

  // One complete incoming message. The views of message() are valid until the next call.
  Incoming on_message(std::string_view text);
  const Message& message() const { return msg_; }

  // Stops waiting for request `id` (a timeout or the caller's cancellation): its future fails
  // with `code`/`reason`, and `out` gets the notifications/cancelled to send (basic/utilities/
  // cancellation.mdx). Returns false (nothing written) if `id` is not pending.
  bool abandon(uint64_t id, std::string& out, int code, std::string_view reason);
  // The connection is gone: every pending future fails with kConnectionClosed and `reason`.
  void fail_all(std::string_view reason);

  size_t pending() const { return pending_.size(); }
  bool pending(uint64_t id) const { return pending_.contains(id); }

 private:
  Parser parser_;
  Message msg_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, promise<Response>> pending_;
};

}  // namespace fa::mcp::client
