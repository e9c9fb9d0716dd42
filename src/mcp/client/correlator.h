// JSON-RPC id correlation for an MCP client, sans I/O: numbers outgoing requests, keeps one
// promise per request in flight, and resolves it from the answer the transport read (parsed with
// mcp/jsonrpc.h). Knows nothing of pipes or sockets; the transport writes what it encodes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// A success response whose top level holds only "jsonrpc":"2.0", a positive integer "id" and
// "result" (and members JSON-RPC does not define), spelled without escapes, valid JSON in
// valid UTF-8: what nearly every answer looks like. Gives its id and the raw JSON of its
// result, found by one checking pass (json_scan.h check_value) instead of a parse; whatever
// it reads, the parser reads the same. False for anything else, which on_message() parses.
bool scan_response(std::string_view text, uint64_t& id, std::string_view& result);

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
  // As request(), for a caller that writes the params itself, in place: appends
  // `{"jsonrpc":"2.0","id":N,"method":"M"`; the caller appends `,"params":{...}` (or nothing)
  // and the closing '}'.
  future<Response> open_request(std::string& out, std::string_view method, uint64_t& id);
  // Encodes a notification into `out` (appended).
  static void notification(std::string& out, std::string_view method, std::string_view params_json);

  // One complete incoming message. The views of message() are valid until the next call. An
  // answer scan_response() reads is routed by its id without a parse; message() then holds
  // only its kind and result.
  Incoming on_message(std::string_view text);
  const Message& message() const { return msg_; }

  // Stops waiting for request `id` (a timeout or the caller's cancellation): its future fails
  // with `code`/`reason`, and `out` gets the notifications/cancelled to send (basic/utilities/
  // cancellation.mdx). Returns false (nothing written) if `id` is not pending.
  bool abandon(uint64_t id, std::string& out, int code, std::string_view reason);
  // The connection is gone: every pending future fails with kConnectionClosed and `reason`.
  void fail_all(std::string_view reason);

  size_t pending() const { return pending_.size(); }
  bool pending(uint64_t id) const { return find(id) != pending_.end(); }

 private:
  using Pending = std::vector<std::pair<uint64_t, promise<Response>>>;
  Pending::iterator find(uint64_t id);
  Pending::const_iterator find(uint64_t id) const;
  // Removes request `id` from the pending ones and resolves its future with `r`.
  Incoming answer(uint64_t id, Response&& r);

  Parser parser_;
  Message msg_;
  uint64_t next_id_ = 1;
  // Requests in flight, in id order (ids only grow): a binary search finds one, and the vector
  // keeps its capacity, so a request in steady state allocates no node.
  Pending pending_;
};

}  // namespace fa::mcp::client
