// Session: what the server remembers about one client (basic/lifecycle.mdx): the negotiated
// version, the log level (server/utilities/logging.mdx) and the requests still in flight.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mcp/channel.h"
#include "mcp/jsonrpc.h"

namespace fa::mcp {

// RFC 5424 severities as MCP names them, lowest first (server/utilities/logging.mdx).
enum class LogLevel : uint8_t { kDebug, kInfo, kNotice, kWarning, kError, kCritical, kAlert, kEmergency };
// Returns false for an unknown name.
bool parse_log_level(std::string_view name, LogLevel& level);
std::string_view log_level_name(LogLevel level);

// Request id (raw JSON token) -> call id for the requests a session has in flight. A session has a
// few at a time, so a flat vector beats a node-based map; slots are kept when erased, so once
// warm an insert reuses a slot's string and allocates nothing (the per-call hot path).
class InFlightMap {
 public:
  using value_type = std::pair<std::string, uint64_t>;
  using iterator = std::vector<value_type>::iterator;

  InFlightMap() = default;
  InFlightMap(InFlightMap&& o) noexcept
      : items_(std::move(o.items_)), size_(std::exchange(o.size_, 0)) {}
  InFlightMap& operator=(InFlightMap&& o) noexcept {
    items_ = std::move(o.items_);
    size_ = std::exchange(o.size_, 0);
    return *this;
  }

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.begin() + static_cast<std::ptrdiff_t>(size_); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }

  iterator find(std::string_view id) {
    for (auto it = begin(), stop = end(); it != stop; ++it)
      if (it->first == id) return it;
    return end();
  }
  bool contains(std::string_view id) { return find(id) != end(); }
  // The entry for `id`, inserted with 0 when absent.
  uint64_t& operator[](std::string_view id) {
    if (auto it = find(id); it != end()) return it->second;
    if (size_ < items_.size()) {
      // clear() + append(): append's fitting case is cheaper than assign()'s _M_replace.
      items_[size_].first.clear();
      items_[size_].first.append(id);
      items_[size_].second = 0;
    } else {
      items_.emplace_back(std::string(id), 0);
    }
    return items_[size_++].second;
  }
  void erase(iterator it) {
    // The last live entry fills the hole; the slot stays. Usually `it` is the last one (one
    // request in flight): no swap, which would move its string three times.
    if (it != begin() + static_cast<std::ptrdiff_t>(size_ - 1)) std::swap(*it, items_[size_ - 1]);
    --size_;
  }
  size_t erase(std::string_view id) {
    auto it = find(id);
    if (it == end()) return 0;
    erase(it);
    return 1;
  }

 private:
  std::vector<value_type> items_;
  size_t size_ = 0;
};

struct Session {
  bool initialized = false;       // notifications/initialized received
  std::string protocol_version;   // set by initialize
  LogLevel log_level = LogLevel::kDebug;
  // Request id (raw JSON token) -> call id, for requests the application still owes an answer.
  InFlightMap in_flight;
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
};

}  // namespace fa::mcp
