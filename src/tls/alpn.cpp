// ALPN selection implementation.
#include "tls/alpn.h"

namespace fa::tls {

namespace {
// Splits the wire list; false when malformed (RFC 7301 §3.1: names are 1..255 bytes).
template <class F>
bool each_name(std::span<const uint8_t> wire, F&& f) {
  size_t i = 0;
  while (i < wire.size()) {
    size_t len = wire[i++];
    if (len == 0 || len > wire.size() - i) return false;
    f(std::string_view(reinterpret_cast<const char*>(wire.data() + i), len));
    i += len;
  }
  return true;
}
}  // namespace

std::optional<std::string_view> select_alpn(std::span<const uint8_t> client_wire,
                                            const std::vector<std::string>& ours) {
  std::vector<std::string_view> offered;
  if (!each_name(client_wire, [&](std::string_view n) { offered.push_back(n); }))
    return std::nullopt;
  for (const auto& want : ours)
    for (std::string_view o : offered)
      if (o == want) return o;
  return std::nullopt;
}

std::string alpn_wire(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (n.empty() || n.size() > 255) continue;
    out.push_back(static_cast<char>(n.size()));
    out += n;
  }
  return out;
}

}  // namespace fa::tls
