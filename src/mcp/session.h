// Session: what the server remembers about one client (basic/lifecycle.mdx): the negotiated
// version, the log level (server/utilities/logging.mdx) and the requests still in flight.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

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
  Parser parser;
  std::string scratch;  // reused for names copied out of the parser
};

}  // namespace fa::mcp
