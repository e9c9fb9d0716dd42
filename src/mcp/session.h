// Session: what the server remembers about one client (basic/lifecycle.mdx): the negotiated
// version, the log level (server/utilities/logging.mdx) and the requests still in flight.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "mcp/channel.h"
#include "mcp/jsonrpc.h"

namespace fa::mcp {

// RFC 5424 severities as MCP names them, lowest first (server/utilities/logging.mdx).
enum class LogLevel : uint8_t { kDebug, kInfo, kNotice, kWarning, kError, kCritical, kAlert, kEmergency };
// Returns false for an unknown name.
bool parse_log_level(std::string_view name, LogLevel& level);
std::string_view log_level_name(LogLevel level);

struct Session {
  bool initialized = false;       // notifications/initialized received
  std::string protocol_version;   // set by initialize
  LogLevel log_level = LogLevel::kDebug;
  // Request id (raw JSON token) -> call id, for requests the application still owes an answer.
  std::unordered_map<std::string, uint64_t> in_flight;
  std::unordered_set<std::string> subscriptions;  // resources/subscribe URIs
  // The client's capabilities as it declared them in initialize (raw JSON; "{}" if none).
  std::string client_capabilities;
  // Requests we sent the client (sampling, elicitation, roots): raw id token -> the number the
  // application knows them by. A response is accepted only from the session it was sent to.
  std::unordered_map<std::string, uint64_t> outgoing;
  // Where messages no request asked for go (list_changed, resource updates): stdout on stdio,
  // the GET stream on HTTP. Null while there is none.
  std::shared_ptr<Channel> notifier;
  // An HTTP request without Mcp-Session-Id that named 2026-07-28: every request must carry its
  // protocol version in _meta (2026-07-28 basic/index.mdx).
  bool stateless = false;
  // With bearer authorization: the verified token's claims (JSON) of the latest request, and
  // the subject that opened the session (a session is not shared between subjects).
  std::string auth_claims, auth_subject;
  Parser parser;
  std::string scratch;  // reused for names copied out of the parser
};

}  // namespace fa::mcp
