// The server side of the opening handshake (RFC 6455 §4.2), without I/O: check the request,
// compute Sec-WebSocket-Accept, format the 101.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/h1_parser.h"

namespace fa::ws {

struct HandshakeCheck {
  int status = 0;           // 0 = valid; 400 or 426 otherwise
  std::string_view reason;  // static description of what is wrong
  std::string_view key;     // Sec-WebSocket-Key (valid when status == 0)
};

// §4.2.1: GET, HTTP/1.1, Host, Upgrade: websocket, Connection: upgrade, a Sec-WebSocket-Key of
// 16 bytes in base64, Sec-WebSocket-Version 13. A request that is no upgrade, or asks for
// another version, gets 426 (with kUpgradeRequiredHeaders); a malformed one 400.
HandshakeCheck check_handshake(const http::RequestHead& head);
inline constexpr std::string_view kUpgradeRequiredHeaders =
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";

// RFC 8441: an HTTP/2 extended CONNECT with :protocol websocket (H2Protocol hands those to the
// WebSocket route with the method CONNECT and version 2).
bool is_extended_connect(const http::RequestHead& head);
// RFC 8441 §5: Sec-WebSocket-Version 13 (426 otherwise), no Sec-WebSocket-Key (400).
HandshakeCheck check_h2_handshake(const http::RequestHead& head);

// base64(SHA-1(key + the GUID of §1.3)).
std::string accept_key(std::string_view key);

// Values of every header with this name joined with ", " (RFC 9110 §5.3).
std::string joined_header(const http::RequestHead& head, std::string_view name);

// Comma-separated tokens of Sec-WebSocket-Protocol headers, in order.
std::vector<std::string> requested_subprotocols(const http::RequestHead& head);

// The complete 101 head. Extra headers whose name or value holds CR, LF or NUL are left out.
std::string switching_protocols_head(std::string_view accept, std::string_view subprotocol,
                                     std::string_view extensions,
                                     const std::vector<std::pair<std::string, std::string>>& extra);

// The fields of the 200 that accepts an RFC 8441 WebSocket ("Name: value\r\n"...), with the
// same filtering of `extra` as switching_protocols_head.
std::string tunnel_response_fields(std::string_view subprotocol, std::string_view extensions,
                                   const std::vector<std::pair<std::string, std::string>>& extra);

}  // namespace fa::ws
