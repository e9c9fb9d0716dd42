// MessageReader: the receiving side of RFC 6455 without I/O. Takes the bytes a client sent and
// returns whole messages and control frames, or the close code the connection must fail with:
// masking (§5.3), fragmentation and interleaved control frames (§5.4-5.5), close payloads
// (§5.5.1, §7.4), UTF-8 of text (§8.1, checked as bytes arrive), size limits, RSV bits (§5.2)
// and permessage-deflate (RFC 7692).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ws/frame_head.h"
#include "ws/utf8_validator.h"

namespace fa::ws {

class Inflater;

struct ReaderConfig {
  size_t max_frame_bytes = 16 << 20;    // payload bytes of one frame; 1009 past this
  size_t max_message_bytes = 16 << 20;  // bytes of a whole (inflated) message; 1009 past this
  bool require_mask = true;             // §5.1: a server closes on an unmasked client frame
};

struct ReadEvent {
  enum class Kind : uint8_t { kNeedMore, kMessage, kPing, kPong, kClose, kError };
  Kind kind = Kind::kNeedMore;
  bool binary = false;      // kMessage: opcode 0x2
  bool ascii = false;       // kMessage, text: every byte < 0x80 (UTF-8 and ASCII alike)
  std::string_view data;    // kMessage/kPing/kPong payload; valid until the next call
  uint16_t code = 0;        // kClose: the peer's code (1005 if none); kError: the code to send
  std::string_view reason;  // kClose: the peer's reason; kError: a static description
};

class MessageReader {
 public:
  // `inflater`: the permessage-deflate context when negotiated (RSV1 allowed), else null.
  MessageReader(const ReaderConfig& config, Inflater* inflater);

  // Reads the next event from the `size` bytes at `data`, unmasking payloads in place. Sets
  // `consumed` to the bytes the caller drops after handling the event (the event's views may
  // point into `data`). kNeedMore: wait for more bytes (the unconsumed rest must be passed
  // again, with new bytes appended). After a kError the reader keeps returning it.
  ReadEvent next(char* data, size_t size, size_t& consumed);

  // A fragmented message has started and not yet ended.
  bool in_message() const { return in_message_; }

 private:
  ReadEvent fail(uint16_t code, std::string_view reason);
  ReadEvent check_head();  // kNeedMore when the head is acceptable
  ReadEvent control_frame(std::string_view payload);

  ReaderConfig config_;
  Inflater* inflater_;
  FrameHead head_;
  bool have_head_ = false;
  uint64_t done_ = 0;  // payload bytes of the current frame already unmasked (and checked)
  bool in_message_ = false;
  bool binary_ = false;
  bool compressed_ = false;
  Utf8Validator utf8_;
  std::string message_;  // fragments joined / inflated output
  ReadEvent error_;
  bool failed_ = false;
};

}  // namespace fa::ws
