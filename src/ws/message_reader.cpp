// MessageReader implementation. Frames are handled when complete, except that uncompressed
// text is unmasked and UTF-8 checked as it arrives, so a bad byte fails the connection at
// once (§8.1 "fail fast") and a frame over the limit is refused from its head alone.
#include "ws/message_reader.h"

#include "ws/deflater.h"
#include "ws/frame.h"

namespace fa::ws {

namespace {
using Kind = ReadEvent::Kind;
// A message buffer grown past this by a large message is freed when the next one starts.
constexpr size_t kKeepMessageCapacity = 1 << 20;  // bytes
bool reserved_opcode(uint8_t op) {
  return (op > 0x2 && op < 0x8) || op > 0xA;
}
}  // namespace

MessageReader::MessageReader(const ReaderConfig& config, Inflater* inflater)
    : config_(config), inflater_(inflater) {}

ReadEvent MessageReader::fail(uint16_t code, std::string_view reason) {
  failed_ = true;
  error_ = ReadEvent{Kind::kError, false, false, {}, code, reason};
  return error_;
}

ReadEvent MessageReader::check_head() {
  const FrameHead& h = head_;
  if (h.rsv2 || h.rsv3)
    return fail(close_code::kProtocolError, "RSV2/RSV3 set without an extension");
  if (reserved_opcode(h.opcode)) return fail(close_code::kProtocolError, "reserved opcode");
  bool control = h.opcode & 0x8;
  if (h.rsv1 && (!inflater_ || control || h.opcode == 0))  // RFC 7692 §6: first frame only
    return fail(close_code::kProtocolError, "RSV1 set without permessage-deflate on this frame");
  if (config_.require_mask && !h.masked)
    return fail(close_code::kProtocolError, "client frame not masked");
  if (control) {
    if (!h.fin) return fail(close_code::kProtocolError, "fragmented control frame");
    if (h.payload_len > kMaxControlPayload)
      return fail(close_code::kProtocolError, "control frame over 125 bytes");
    return {};
  }
  if (h.opcode == 0 && !in_message_)
    return fail(close_code::kProtocolError, "continuation without a message");
  if (h.opcode != 0 && in_message_)
    return fail(close_code::kProtocolError, "new message inside a fragmented one");
  if (h.payload_len > config_.max_frame_bytes)
    return fail(close_code::kMessageTooBig, "frame too big");
  if (h.opcode != 0) {
    in_message_ = true;
    binary_ = h.opcode == 0x2;
    compressed_ = h.rsv1;
    message_.clear();
    if (message_.capacity() > kKeepMessageCapacity) std::string().swap(message_);
    utf8_.reset();
  }
  if (!compressed_ && message_.size() + h.payload_len > config_.max_message_bytes)
    return fail(close_code::kMessageTooBig, "message too big");
  return {};
}

ReadEvent MessageReader::control_frame(std::string_view payload) {
  switch (head_.opcode) {
    case 0x9:
      return ReadEvent{Kind::kPing, false, false, payload, 0, {}};
    case 0xA:
      return ReadEvent{Kind::kPong, false, false, payload, 0, {}};
    default:
      break;
  }
  // Close (§5.5.1): empty, or a 2-byte code then a UTF-8 reason.
  if (payload.empty()) return ReadEvent{Kind::kClose, false, false, {}, close_code::kNoStatus, {}};
  if (payload.size() == 1) return fail(close_code::kProtocolError, "close payload of 1 byte");
  uint16_t code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                        static_cast<uint8_t>(payload[1]));
  if (!valid_wire_close_code(code)) return fail(close_code::kProtocolError, "invalid close code");
  std::string_view reason = payload.substr(2);
  if (!valid_utf8(reason)) return fail(close_code::kInvalidPayload, "close reason not UTF-8");
  return ReadEvent{Kind::kClose, false, false, {}, code, reason};
}

ReadEvent MessageReader::next(char* data, size_t size, size_t& consumed) {
  consumed = 0;
  if (failed_) return error_;
  size_t pos = 0;
  for (;;) {
    char* p = data + pos;
    size_t n = size - pos;
    if (!have_head_) {
      int r = parse_frame_head(std::string_view(p, n), head_);
      if (r < 0) return fail(close_code::kProtocolError, "64-bit length with the top bit set");
      if (r == 0) break;
      if (ReadEvent e = check_head(); e.kind == Kind::kError) return e;
      have_head_ = true;
      done_ = 0;
    }
    const uint64_t len = head_.payload_len;
    const size_t avail = n - head_.head_len;
    char* payload = p + head_.head_len;
    const bool control = head_.opcode & 0x8;
    uint64_t upto = avail < len ? avail : len;
    if (upto > done_) {
      size_t chunk = static_cast<size_t>(upto - done_);
      if (head_.masked) apply_mask(payload + done_, chunk, head_.mask, done_);
      if (!control && !binary_ && !compressed_ &&
          !utf8_.feed(std::string_view(payload + done_, chunk)))
        return fail(close_code::kInvalidPayload, "invalid UTF-8 in a text message");
      done_ = upto;
    }
    if (avail < len) break;  // the rest of this frame has not arrived

    const size_t frame_len = head_.head_len + static_cast<size_t>(len);
    std::string_view body(payload, static_cast<size_t>(len));
    have_head_ = false;
    if (control) {
      consumed = pos + frame_len;
      return control_frame(body);
    }
    pos += frame_len;
    if (compressed_) {
      size_t before = message_.size();
      Inflater::Result r = inflater_->inflate(body, head_.fin, message_, config_.max_message_bytes);
      if (r == Inflater::Result::kTooBig)
        return fail(close_code::kMessageTooBig, "message too big when inflated");
      if (r == Inflater::Result::kError)
        return fail(close_code::kInvalidPayload, "corrupt deflate data");
      if (!binary_ && !utf8_.feed(std::string_view(message_).substr(before)))
        return fail(close_code::kInvalidPayload, "invalid UTF-8 in a text message");
    } else if (head_.fin && message_.empty()) {
      // The whole message is this frame's payload: hand it out where it lies.
      in_message_ = false;
      if (!binary_ && !utf8_.complete())
        return fail(close_code::kInvalidPayload, "text message ends inside a UTF-8 sequence");
      consumed = pos;
      return ReadEvent{Kind::kMessage, binary_, !binary_ && utf8_.ascii(), body, 0, {}};
    } else {
      message_.append(body);
    }
    if (head_.fin) {
      in_message_ = false;
      if (!binary_ && !utf8_.complete())
        return fail(close_code::kInvalidPayload, "text message ends inside a UTF-8 sequence");
      consumed = pos;
      return ReadEvent{Kind::kMessage, binary_, !binary_ && utf8_.ascii(), message_, 0, {}};
    }
  }
  consumed = pos;
  return ReadEvent{};
}

}  // namespace fa::ws
