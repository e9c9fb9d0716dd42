// FrameGuard implementation (frame layout: RFC 9113 §4.1; types §6).
#include "h2/frame_guard.h"

#include <algorithm>

namespace fa::h2 {

namespace {
constexpr uint8_t kHeaders = 0x1, kRstStream = 0x3, kPushPromise = 0x5, kContinuation = 0x9;
constexpr uint8_t kEndHeaders = 0x4;
}  // namespace

GuardVerdict FrameGuard::feed(std::string_view bytes, double now_seconds) {
  size_t i = 0;
  while (i < bytes.size() && verdict_ == GuardVerdict::kOk) {
    if (payload_left_ > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(payload_left_, bytes.size() - i));
      payload_left_ -= n;
      i += n;
      continue;
    }
    head_[head_len_++] = static_cast<unsigned char>(bytes[i++]);
    if (head_len_ == sizeof head_) {
      head_len_ = 0;
      on_frame_header(now_seconds);
    }
  }
  return verdict_;
}

void FrameGuard::on_frame_header(double now) {
  uint32_t length = (uint32_t{head_[0]} << 16) | (uint32_t{head_[1]} << 8) | head_[2];
  uint8_t type = head_[3], flags = head_[4];
  payload_left_ = length;
  if (type == kHeaders || type == kPushPromise) {
    in_block_ = !(flags & kEndHeaders);
    continuations_ = 0;
    block_bytes_ = length;
  } else if (type == kContinuation && in_block_) {
    ++continuations_;
    block_bytes_ += length;
    if (flags & kEndHeaders) in_block_ = false;
    if (continuations_ > limits_.max_continuations || block_bytes_ > limits_.max_header_block)
      verdict_ = GuardVerdict::kContinuationFlood;
  } else if (type == kRstStream) {
    if (last_refill_ >= 0)
      tokens_ = std::min(limits_.resets_burst,
                         tokens_ + (now - last_refill_) * limits_.resets_per_second);
    last_refill_ = now;
    if (tokens_ < 1) {
      verdict_ = GuardVerdict::kRapidReset;
    } else {
      tokens_ -= 1;
    }
  }
}

}  // namespace fa::h2
