// Server frame heads (RFC 6455 §5.2): FIN/RSV1/opcode, then a 7-bit, 16-bit or 64-bit
// length; server frames are never masked (§5.1).
#include <cstring>

#include "ws/frame.h"

namespace fa::ws {

size_t write_frame_head(char* buf, Opcode opcode, uint64_t payload_len, bool fin, bool compressed) {
  auto* b = reinterpret_cast<unsigned char*>(buf);
  b[0] = static_cast<unsigned char>((fin ? 0x80 : 0) | (compressed ? 0x40 : 0) |
                                    static_cast<uint8_t>(opcode));
  if (payload_len < 126) {
    b[1] = static_cast<unsigned char>(payload_len);
    return 2;
  }
  if (payload_len <= 0xFFFF) {
    b[1] = 126;
    b[2] = static_cast<unsigned char>(payload_len >> 8);
    b[3] = static_cast<unsigned char>(payload_len);
    return 4;
  }
  b[1] = 127;
  for (int i = 0; i < 8; ++i) b[2 + i] = static_cast<unsigned char>(payload_len >> (56 - 8 * i));
  return 10;
}

size_t append_frame_head(std::string& out, Opcode opcode, uint64_t payload_len, bool fin,
                         bool compressed) {
  char buf[10];
  size_t n = write_frame_head(buf, opcode, payload_len, fin, compressed);
  out.append(buf, n);
  return n;
}

EncodedFrame encode_frame(Opcode opcode, std::string_view payload) {
  EncodedFrame f;
  f.opcode = opcode;
  f.bytes.reserve(payload.size() + 10);
  append_frame_head(f.bytes, opcode, payload.size());
  f.bytes.append(payload);
  return f;
}

}  // namespace fa::ws
