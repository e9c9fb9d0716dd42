// JSON-RPC 2.0 messages for MCP (basic/index.mdx "Messages"): a parser that returns views into
// the input, the spec's error codes, and encoders for result and error envelopes. No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fa::mcp {

// JSON-RPC 2.0 §5.1 error codes, as MCP uses them.
enum ErrorCode : int {
  kParseError = -32700,      // not JSON
  kInvalidRequest = -32600,  // JSON, but not a valid request object (also: batches)
  kMethodNotFound = -32601,
  kInvalidParams = -32602,   // also: unknown tool/prompt (server/tools.mdx "Error Handling")
  kInternalError = -32603,
  kResourceNotFound = -32002,  // server/resources.mdx "Error Handling" (2025-11-25)
  kUnsupportedProtocolVersion = -32022,  // 2026-07-28 basic/versioning.mdx
  kMissingRequiredClientCapability = -32021,  // 2026-07-28 basic/index.mdx "Error Codes"
};

// One message larger than this is refused with kInvalidRequest (bytes): 4 MiB holds any
// realistic tool call and bounds what one peer can make us buffer.
inline constexpr size_t kMaxMessageBytes = 4 * 1024 * 1024;

enum class MessageKind : uint8_t { kRequest, kNotification, kResponse, kError };

// The members of params the server core reads, found in the same pass as the envelope.
// Strings are unescaped; the others are raw JSON. Empty views when absent.
struct KnownParams {
  std::string_view name;              // tools/call, prompts/get (has_name: present as a string)
  std::string_view uri;               // resources/read
  std::string_view arguments;         // raw JSON
  std::string_view progress_token;    // raw JSON token of _meta.progressToken
  std::string_view cursor;            // list methods
  std::string_view level;             // logging/setLevel
  std::string_view protocol_version;  // initialize
  std::string_view request_id;        // notifications/cancelled: raw JSON token
  std::string_view capabilities;      // initialize: raw JSON of the client's capabilities
  std::string_view task_id;           // tasks/get, tasks/update, tasks/cancel (SEP-2663)
  // 2026-07-28 per-request metadata (basic/index.mdx "_meta"): the request's protocol version
  // and log level, io.modelcontextprotocol/protocolVersion and .../logLevel.
  std::string_view meta_version, meta_log_level;
  // Raw JSON of _meta["io.modelcontextprotocol/clientCapabilities"] (2026-07-28).
  std::string_view meta_client_capabilities;
  bool has_name = false, has_uri = false, has_cursor = false, has_level = false, has_task_id = false;
  bool has_meta = false, has_meta_version = false, has_meta_log_level = false;
};

// A parsed message. Every view points into the parser's buffer or the parsed text and is
// valid until the next parse() on the same parser.
struct Message {
  MessageKind kind = MessageKind::kRequest;
  std::string_view id;      // raw JSON token: 7 or "abc" (quotes kept); empty for notifications
  std::string_view method;  // unescaped
  std::string_view params;  // raw JSON text of the params object; empty when absent
  std::string_view result;  // kResponse: raw JSON of "result"
  int error_code = 0;       // kError
  std::string_view error;   // kError: raw JSON of the "error" object
  KnownParams known;        // members of params, read in the same pass
};

// Why a message was refused: the code to answer with and a readable reason. `id` is the
// request's id when it could be read (answer with it), else empty (answer with null).
struct ParseFailure {
  int code = 0;
  std::string_view reason;
  std::string_view id;
};

// Parses one JSON-RPC message (simdjson on-demand). Keeps its buffers between calls, so a
// parser per session parses without allocating once warm.
class Parser {
 public:
  Parser();
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Returns true and fills `out`, or false and fills `failure`. Top-level arrays (batches) are
  // refused with kInvalidRequest: revision 2025-11-25 removed batching (changelog.mdx).
  bool parse(std::string_view text, Message& out, ParseFailure& failure);
  // parse() into a default-constructed `out` (not reset again: a per-message saving).
  bool parse_fresh(std::string_view text, Message& out, ParseFailure& failure);

  // Reads string member `key` of the JSON object `object` (unescaped; view valid until the next
  // call on this parser). Returns false if absent or not a string. `object` must not alias the
  // text passed to parse() while its views are still needed.
  bool string_member(std::string_view object, std::string_view key, std::string_view& value);
  // Raw JSON text of member `key` of `object`, empty if absent or `object` is not an object.
  std::string_view raw_member(std::string_view object, std::string_view key);
  // Appends each member of the JSON object `object` as (unescaped name, raw JSON value) to `out`.
  // Returns false if `object` is not a well-formed object.
  bool object_members(std::string_view object, std::vector<std::pair<std::string, std::string>>& out);
  // Appends the strings of array member `key` of `object` to `out` (non-strings are skipped).
  // Returns false if absent or not an array of the object.
  bool string_array_member(std::string_view object, std::string_view key, std::vector<std::string>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends {"jsonrpc":"2.0","id":<id>,"result":<result_json>} to out. `id` is a raw token.
void encode_result(std::string& out, std::string_view id, std::string_view result_json);
// The same envelope in place of `out`'s content (for a buffer reused message after message).
void encode_result_over(std::string& out, std::string_view id, std::string_view result_json);
// Appends an error envelope; an empty `id` is written as null. `data_json` is raw JSON or empty.
void encode_error(std::string& out, std::string_view id, int code, std::string_view message,
                  std::string_view data_json = {});
// Appends {"jsonrpc":"2.0","method":<method>,"params":<params_json>}.
void encode_notification(std::string& out, std::string_view method, std::string_view params_json);
// Appends s as a quoted JSON string.
void append_string(std::string& out, std::string_view s);

}  // namespace fa::mcp
