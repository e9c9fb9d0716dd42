// h2c by HTTP/1.1 Upgrade (RFC 7540 §3.2): the request that asks for it, read from a parsed
// HTTP/1.1 head. RFC 9113 §3.1 deprecates this path, but curl --http2 over http:// still takes
// it, so a cleartext server that speaks h2c answers it. No I/O: H1Protocol asks, H2Protocol
// (H2Protocol::from_upgrade) takes the request over as stream 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/h1_parser.h"

namespace fa::h2 {

// The upgrade request copied out of the HTTP/1.1 buffer (whose bytes the new protocol consumes).
struct H2cRequest {
  std::string method, target, authority;
  std::vector<std::pair<std::string, std::string>> fields;  // lower-case names, hop-by-hop gone
  std::string settings;  // HTTP2-Settings decoded: a SETTINGS payload (RFC 9113 §6.5.1)
};

// RFC 7540 §3.2: the 101 that switches; the server's connection preface follows it.
inline constexpr std::string_view kSwitchingToH2c =
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";

// Base64url without padding (RFC 4648 §5), as HTTP2-Settings is written (RFC 7540 §3.2.1);
// trailing '=' is tolerated. False on any other character or an impossible length.
bool decode_base64url(std::string_view in, std::string& out);

// Whether a SETTINGS payload is well formed (a multiple of 6 octets) with every known value in
// range (RFC 9113 §6.5.2): ENABLE_PUSH 0/1, INITIAL_WINDOW_SIZE ≤ 2^31-1, MAX_FRAME_SIZE in
// [2^14, 2^24-1]. Unknown identifiers are ignored, as §6.5.2 requires.
bool valid_settings_payload(std::string_view payload);

// True when `head` asks for h2c and may have it: an Upgrade field listing "h2c", a Connection
// field listing HTTP2-Settings, exactly one HTTP2-Settings field with a valid payload, and no
// request body (one sent before the switch would have to be read as HTTP/1.1 first; a server
// may ignore the Upgrade, §3.2, and answer over HTTP/1.1). Fills `out`. The caller refuses it
// over TLS (h2c is cleartext only; TLS negotiates "h2" by ALPN).
bool parse_h2c_upgrade(const http::RequestHead& head, H2cRequest& out);

}  // namespace fa::h2
