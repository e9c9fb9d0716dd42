// HttpOptions from the Python keyword arguments MCPServer and MCPProxy share (run(transport=
// "http", ...), serve_http, mount): one reading of them, so both check and convert alike.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "mcp/http_transport.h"

namespace fa::py {

// session_idle_timeout in seconds (<= 0: sessions never expire); max_sessions 0: no limit.
inline mcp::HttpOptions http_options(const std::string& host, const std::string& path,
                                     nanobind::list allowed_origins, nanobind::list allowed_hosts,
                                     double session_idle_timeout, size_t max_sessions) {
  if (!std::isfinite(session_idle_timeout))
    throw nanobind::value_error("session_idle_timeout must be finite");
  mcp::HttpOptions o;
  o.host = host;
  o.path = path;
  for (auto x : allowed_origins) o.allowed_origins.push_back(nanobind::cast<std::string>(x));
  for (auto x : allowed_hosts) o.allowed_hosts.push_back(nanobind::cast<std::string>(x));
  o.session_idle_timeout = std::chrono::milliseconds(
      session_idle_timeout > 0 ? std::max<int64_t>(1, std::llround(session_idle_timeout * 1000))
                               : 0);
  o.max_sessions = max_sessions;
  return o;
}

}  // namespace fa::py
