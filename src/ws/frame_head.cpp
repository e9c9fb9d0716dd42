// Frame head parsing and unmasking (RFC 6455 §5.2, §5.3). Unmasking works 8 bytes at a time.
#include "ws/frame_head.h"

#include <cstring>

namespace fa::ws {

int parse_frame_head(std::string_view in, FrameHead& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size();
  if (n < 2) return 0;
  out.fin = p[0] & 0x80;
  out.rsv1 = p[0] & 0x40;
  out.rsv2 = p[0] & 0x20;
  out.rsv3 = p[0] & 0x10;
  out.opcode = p[0] & 0x0F;
  out.masked = p[1] & 0x80;
  uint64_t len = p[1] & 0x7F;
  size_t pos = 2;
  if (len == 126) {
    if (n < 4) return 0;
    len = (uint64_t{p[2]} << 8) | p[3];
    pos = 4;
  } else if (len == 127) {
    if (n < 10) return 0;
    if (p[2] & 0x80) return -1;  // §5.2: the most significant bit MUST be 0
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
    pos = 10;
  }
  if (out.masked) {
    if (n < pos + 4) return 0;
    std::memcpy(out.mask, p + pos, 4);
    pos += 4;
  } else {
    std::memset(out.mask, 0, 4);
  }
  out.payload_len = len;
  out.head_len = pos;
  return static_cast<int>(pos);
}

void apply_mask(char* data, size_t len, const uint8_t mask[4], uint64_t offset) {
  uint8_t m[4];
  for (int i = 0; i < 4; ++i) m[i] = mask[(offset + i) & 3];  // rotate to this offset
  size_t i = 0;
  if (len >= 8) {
    uint64_t m8;
    unsigned char mb[8] = {m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]};
    std::memcpy(&m8, mb, 8);
    for (; i + 8 <= len; i += 8) {
      uint64_t w;
      std::memcpy(&w, data + i, 8);
      w ^= m8;
      std::memcpy(data + i, &w, 8);
    }
  }
  for (; i < len; ++i) data[i] = static_cast<char>(data[i] ^ m[i & 3]);
}

}  // namespace fa::ws
