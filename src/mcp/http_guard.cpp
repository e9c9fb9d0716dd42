// HttpGuard: Origin and Host checks against DNS rebinding.
#include "mcp/http_guard.h"

#include <algorithm>
#include <cctype>

namespace fa::mcp {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view strip_port(std::string_view host_port) {
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    return close == std::string_view::npos ? host_port : host_port.substr(0, close + 1);
  }
  size_t colon = host_port.rfind(':');
  return colon == std::string_view::npos ? host_port : host_port.substr(0, colon);
}

}  // namespace

bool is_loopback_host(std::string_view host_port) {
  std::string_view host = strip_port(host_port);
  if (iequals(host, "localhost") || host == "[::1]") return true;
  if (host.substr(0, 4) != "127.") return false;
  return std::all_of(host.begin(), host.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

bool HttpGuard::origin_ok(std::string_view origin) const {
  if (origin.empty()) return true;
  for (const auto& o : allowed_origins)
    if (o == "*" || iequals(o, origin)) return true;
  size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view rest = origin.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  return loopback_only && is_loopback_host(rest);
}

bool HttpGuard::host_ok(std::string_view host) const {
  if (!loopback_only) return true;
  for (const auto& h : allowed_hosts)
    if (h == "*" || iequals(h, host) || iequals(h, strip_port(host))) return true;
  return is_loopback_host(host);
}

}  // namespace fa::mcp
