// ALPN selection (RFC 7301 §3.1-3.2), sans-I/O: the client's ProtocolNameList in wire format
// (length-prefixed names) against the server's preference list.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fa::tls {

// Picks the first of `ours` (server preference) that the client offered. Returns a view into
// `client_wire`, or nullopt when nothing overlaps or the list is malformed (an empty name, a
// length running past the end).
std::optional<std::string_view> select_alpn(std::span<const uint8_t> client_wire,
                                            const std::vector<std::string>& ours);

// The names in wire format, for tests and clients: "\x08http/1.1\x02h2".
std::string alpn_wire(const std::vector<std::string>& names);

}  // namespace fa::tls
