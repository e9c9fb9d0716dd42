// FrameHead: the fixed part of a WebSocket frame (RFC 6455 §5.2), parsed without I/O, and the
// masking transform of §5.3.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ws/frame.h"

namespace fa::ws {

struct FrameHead {
  bool fin = false;
  bool rsv1 = false, rsv2 = false, rsv3 = false;
  uint8_t opcode = 0;  // raw 4 bits; may be a reserved value
  bool masked = false;
  uint8_t mask[4] = {0, 0, 0, 0};
  uint64_t payload_len = 0;
  size_t head_len = 0;  // 2 to 14 bytes
};

// Parses the frame head at the start of `in`. Returns its length (> 0), 0 when more bytes are
// needed, or -1 when the 64-bit length has its most significant bit set (§5.2: 1002).
int parse_frame_head(std::string_view in, FrameHead& out);

// XORs `len` bytes at `data` with the mask, starting `offset` bytes into the payload (§5.3).
void apply_mask(char* data, size_t len, const uint8_t mask[4], uint64_t offset);

}  // namespace fa::ws
