// FrameGuard: a sans-I/O look at the frame headers a client sends (RFC 9113 §4.1), ahead of
// nghttp2, for the floods Debian's nghttp2 1.52 does not bound by itself:
//  - rapid reset (CVE-2023-44487): RST_STREAM frames are paid from a token bucket;
//  - CONTINUATION flood (CVE-2024-27316): a header block may span a bounded number of frames
//    and bytes.
// It only reads the 9-byte frame headers; payloads are skipped. The caller feeds every byte
// after the 24-byte preface, in order, in any chunking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fa::h2 {

struct GuardLimits {
  double resets_burst = 1000;        // RST_STREAM frames allowed at once
  double resets_per_second = 33;     // then this many per second (nghttp2 ≥1.57's defaults)
  uint32_t max_continuations = 32;   // CONTINUATION frames after one HEADERS/PUSH_PROMISE
  uint64_t max_header_block = 256 * 1024;  // bytes of one header block (all its frames)
};

enum class GuardVerdict { kOk, kRapidReset, kContinuationFlood };

class FrameGuard {
 public:
  explicit FrameGuard(GuardLimits limits = {}) : limits_(limits), tokens_(limits.resets_burst) {}

  // Scans `bytes`; `now_seconds` is a monotonic clock. Once not kOk, it stays so.
  GuardVerdict feed(std::string_view bytes, double now_seconds);

 private:
  void on_frame_header(double now_seconds);

  GuardLimits limits_;
  GuardVerdict verdict_ = GuardVerdict::kOk;
  unsigned char head_[9] = {};
  size_t head_len_ = 0;       // bytes of the current frame header seen
  uint64_t payload_left_ = 0; // payload bytes of the current frame still to skip
  bool in_block_ = false;     // a header block without END_HEADERS is open
  uint32_t continuations_ = 0;
  uint64_t block_bytes_ = 0;
  double tokens_;
  double last_refill_ = -1;
};

}  // namespace fa::h2
