// DNS-rebinding protection for Streamable HTTP (basic/transports.mdx "Security Warning"):
// servers MUST validate Origin; a server on loopback answers only to loopback Host names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fa::mcp {

struct HttpGuard {
  std::vector<std::string> allowed_origins;  // exact "scheme://host[:port]" values
  std::vector<std::string> allowed_hosts;    // extra Host values ("name" or "name:port")
  bool loopback_only = true;                 // the listener is on 127.0.0.1 / ::1 / localhost

  // An absent Origin (non-browser clients) passes; a present one must be loopback (when we
  // listen on loopback) or listed.
  bool origin_ok(std::string_view origin) const;
  // When listening on loopback, Host must name a loopback host or be listed.
  bool host_ok(std::string_view host) const;
};

// True for localhost, 127.x.y.z and [::1] (an optional :port is ignored).
bool is_loopback_host(std::string_view host_port);

}  // namespace fa::mcp
