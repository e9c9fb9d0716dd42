// libFuzzer target: MessageReader (RFC 6455 frames, with and without permessage-deflate) on
// arbitrary client bytes, fed whole and in pieces of a size taken from the input. Checks that
// splitting never changes the events, that messages respect the limits, that text messages are
// valid UTF-8 and that errors carry a close code the RFC allows.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ws/deflater.h"
#include "ws/frame.h"
#include "ws/message_reader.h"
#include "ws/utf8_validator.h"

namespace {

using fa::ws::ReadEvent;
using Kind = ReadEvent::Kind;

constexpr size_t kMaxFrame = 4096;    // small limits so the fuzzer reaches them
constexpr size_t kMaxMessage = 8192;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "ws_frame_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

struct Seen {
  Kind kind;
  bool binary;
  std::string data;
  uint16_t code;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> run(const uint8_t* data, size_t size, size_t step, bool deflate) {
  fa::ws::DeflateParams params;
  fa::ws::Inflater inflater(params);
  fa::ws::MessageReader reader(fa::ws::ReaderConfig{kMaxFrame, kMaxMessage, true},
                               deflate ? &inflater : nullptr);
  std::vector<Seen> out;
  std::string buf;
  size_t pos = 0;
  while (pos < size) {
    size_t take = std::min(step, size - pos);
    buf.append(reinterpret_cast<const char*>(data) + pos, take);
    pos += take;
    for (;;) {
      size_t consumed = 0;
      ReadEvent ev = reader.next(buf.data(), buf.size(), consumed);
      check(consumed <= buf.size(), "consumed more than given");
      if (ev.kind == Kind::kNeedMore) {
        buf.erase(0, consumed);
        break;
      }
      switch (ev.kind) {
        case Kind::kMessage:
          check(ev.data.size() <= kMaxMessage, "message over the limit");
          check(ev.binary || fa::ws::valid_utf8(ev.data), "text message not UTF-8");
          break;
        case Kind::kPing:
        case Kind::kPong:
          check(ev.data.size() <= fa::ws::kMaxControlPayload, "control payload over 125 bytes");
          break;
        case Kind::kClose:
          check(ev.code == fa::ws::close_code::kNoStatus || fa::ws::valid_wire_close_code(ev.code),
                "close code not allowed");
          break;
        case Kind::kError:
          check(ev.code == 1002 || ev.code == 1007 || ev.code == 1009, "unexpected error code");
          break;
        default:
          break;
      }
      out.push_back({ev.kind, ev.binary, std::string(ev.data), ev.code});
      if (ev.kind == Kind::kError) return out;
      buf.erase(0, consumed);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  bool deflate = data[0] & 0x80;
  size_t step = (data[0] & 0x7F) + 1;
  ++data, --size;
  std::vector<Seen> whole = run(data, size, size == 0 ? 1 : size, deflate);
  std::vector<Seen> split = run(data, size, step, deflate);
  check(whole == split, "splitting the input changed the events");
  return 0;
}
