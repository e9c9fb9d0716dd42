// ProxyCore::Entry: one configured upstream as the proxy keeps it (its connection, breaker,
// deadline list, subscriptions). Shared by the proxy's source files only.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mcp/proxy/proxy_core.h"

namespace fa::mcp::proxy {

struct ProxyCore::Entry {
  std::string name;
  Factory factory;
  std::shared_ptr<client::Upstream> upstream;
  CircuitBreaker breaker;
  bool started = false, start_pending = false;
  std::vector<promise<>> waiters;  // calls waiting for a start in progress
  // Forwarded calls by deadline (watch()), oldest first. The upstream request id tells a
  // call's current attempt from an earlier one (a retry after an input round).
  struct Deadline {
    TimePoint when;
    uint64_t call_id, upstream_id;
  };
  std::deque<Deadline> deadlines;
  TimerId sweep = 0;  // armed for deadlines.front(), 0 when none
  // The URIs (its own) clients subscribed to, with how many client subscriptions each has
  // (a 2025-11-25 session's resources/subscribe, a 2026-07-28 client's open listen).
  std::map<std::string, size_t, std::less<>> subscribed;
  // What the current connection was told (reset when it is replaced): a 2025-11-25 upstream's
  // resources/subscribe'd URIs and its logging/setLevel (-1: none sent); a 2026-07-28
  // upstream's open subscriptions/listen (0: none) and the URIs its filter names.
  std::vector<std::string> told;
  int level_sent = -1;
  uint64_t listen_id = 0;
  std::vector<std::string> listening;
  bool sync_pending = false;  // a sync_subscriptions() is deferred
};

}  // namespace fa::mcp::proxy
