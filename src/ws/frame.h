// WebSocket frame vocabulary (RFC 6455 §5.2, §7.4): opcodes, close codes, and a pre-encoded
// server frame (EncodedFrame) that can be sent to many sockets without re-encoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fa::ws {

// RFC 6455 §5.2 opcodes. 0x3-0x7 and 0xB-0xF are reserved (a peer using one: close 1002).
enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

inline constexpr bool is_control(Opcode op) {
  return (static_cast<uint8_t>(op) & 0x8) != 0;
}

// RFC 6455 §7.4.1 close codes used by this implementation.
namespace close_code {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;  // server shutdown
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kUnsupportedData = 1003;
inline constexpr uint16_t kNoStatus = 1005;        // never sent: the close frame had no code
inline constexpr uint16_t kAbnormal = 1006;        // never sent: the TCP connection died
inline constexpr uint16_t kInvalidPayload = 1007;  // bad UTF-8 in a text message
inline constexpr uint16_t kPolicyViolation = 1008;
inline constexpr uint16_t kMessageTooBig = 1009;
inline constexpr uint16_t kMandatoryExtension = 1010;
inline constexpr uint16_t kInternalError = 1011;
}  // namespace close_code

// True for a code a peer may put on the wire (RFC 6455 §7.4.1-2; 1004-1006 and 1015 are
// reserved, 1012-1014 registered by IANA since, 3000-4999 for libraries and applications).
inline constexpr bool valid_wire_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code != 1004 && code != 1005 && code != 1006;
}

// Control frame payloads are at most 125 bytes (RFC 6455 §5.5).
inline constexpr size_t kMaxControlPayload = 125;

// A complete server-to-client frame (head + payload, unmasked: RFC 6455 §5.1), encoded once.
// For a broadcast, encode once and Socket::send_frame it to every socket. A frame encoded
// without compression is valid on every connection, with or without permessage-deflate.
struct EncodedFrame {
  std::string bytes;
  Opcode opcode = Opcode::kText;
};

// Encodes one final, unmasked frame carrying `payload` (RSV bits clear). For kText the payload
// must be valid UTF-8 (not checked here: the caller's contract).
EncodedFrame encode_frame(Opcode opcode, std::string_view payload);

// Appends a frame head (FIN, RSV1 if `compressed`, opcode, unmasked length) for `payload_len`
// bytes to `out`. Returns the head's size (2, 4 or 10 bytes).
size_t append_frame_head(std::string& out, Opcode opcode, uint64_t payload_len, bool fin = true,
                         bool compressed = false);

// Writes a frame head into buf (at least 10 bytes); returns its size.
size_t write_frame_head(char* buf, Opcode opcode, uint64_t payload_len, bool fin = true,
                        bool compressed = false);

}  // namespace fa::ws
