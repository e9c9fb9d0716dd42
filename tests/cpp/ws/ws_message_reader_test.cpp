// MessageReader (RFC 6455 §5): masking, fragmentation, control frames, close payloads, UTF-8,
// limits, RSV bits, permessage-deflate — each rule with the close code the RFC asks for.
#include "ws/message_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/deflater.h"
#include "ws/frame.h"
#include "ws/ws_test_util.h"

namespace fa::ws {
namespace {

using fa::testing::client_frame;
using fa::testing::close_payload;
using Kind = ReadEvent::Kind;

struct Seen {
  Kind kind;
  bool binary = false;
  std::string data;
  uint16_t code = 0;
  std::string reason;
  bool ascii = false;
};

// Feeds `wire` in pieces of `step` bytes (0 = all at once), like a socket would, and collects
// events until the reader needs more bytes at the end, or fails.
std::vector<Seen> feed(MessageReader& r, const std::string& wire, size_t step = 0) {
  std::vector<Seen> out;
  std::string buf;
  size_t pos = 0;
  while (true) {
    size_t take = step == 0 ? wire.size() - pos : std::min(step, wire.size() - pos);
    buf.append(wire, pos, take);
    pos += take;
    for (;;) {
      size_t consumed = 0;
      ReadEvent ev = r.next(buf.data(), buf.size(), consumed);
      if (ev.kind == Kind::kNeedMore) {
        buf.erase(0, consumed);
        break;
      }
      out.push_back({ev.kind, ev.binary, std::string(ev.data), ev.code, std::string(ev.reason),
                     ev.ascii});
      if (ev.kind == Kind::kError) return out;
      buf.erase(0, consumed);
    }
    if (pos == wire.size()) return out;
  }
}

MessageReader reader(size_t max_frame = 1 << 20, size_t max_message = 1 << 20,
                     Inflater* inf = nullptr) {
  return MessageReader(ReaderConfig{max_frame, max_message, true}, inf);
}

TEST(WsMessageReader, UnfragmentedTextAndBinary) {
  auto r = reader();
  auto ev = feed(r, client_frame(0x1, "hello") + client_frame(0x2, std::string("\0\xff", 2)));
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, Kind::kMessage);
  EXPECT_FALSE(ev[0].binary);
  EXPECT_EQ(ev[0].data, "hello");
  EXPECT_TRUE(ev[1].binary);
  EXPECT_EQ(ev[1].data, std::string("\0\xff", 2));
}

TEST(WsMessageReader, TextMessagesSayWhetherTheyAreAscii) {
  // Each message starts afresh; a fragmented one is ASCII only if every fragment is.
  std::string wire = client_frame(0x1, std::string(50, 'a')) +
                     client_frame(0x1, "caf\xc3\xa9") + client_frame(0x1, "plain") +
                     client_frame(0x1, "x", false) + client_frame(0x0, "\xc3\xa9") +
                     client_frame(0x2, "bin");
  for (size_t step : {0, 1, 7}) {
    auto r2 = reader();
    auto ev = feed(r2, wire, step);
    ASSERT_EQ(ev.size(), 5u);
    EXPECT_TRUE(ev[0].ascii);
    EXPECT_FALSE(ev[1].ascii);
    EXPECT_TRUE(ev[2].ascii);
    EXPECT_FALSE(ev[3].ascii);
    EXPECT_FALSE(ev[4].ascii) << "binary messages are not flagged";
  }
}

TEST(WsMessageReader, ByteByByteGivesTheSameResult) {
  std::string big(70000, 'x');  // 64-bit length form
  std::string wire = client_frame(0x1, "ab", false) + client_frame(0x9, "p") +
                     client_frame(0x0, "cd") + client_frame(0x2, big) +
                     client_frame(0x1, std::string(300, 'y'));
  for (size_t step : {size_t{1}, size_t{3}, size_t{0}}) {
    auto r = reader();
    auto ev = feed(r, wire, step);
    ASSERT_EQ(ev.size(), 4u) << "step " << step;
    EXPECT_EQ(ev[0].kind, Kind::kPing);
    EXPECT_EQ(ev[0].data, "p");
    EXPECT_EQ(ev[1].data, "abcd");
    EXPECT_EQ(ev[2].data, big);
    EXPECT_EQ(ev[3].data, std::string(300, 'y'));
  }
}

TEST(WsMessageReader, UnmaskedClientFrameIs1002) {
  auto r = reader();
  auto ev = feed(r, client_frame(0x1, "hi", true, false));
  ASSERT_EQ(ev.back().kind, Kind::kError);
  EXPECT_EQ(ev.back().code, 1002);
}

TEST(WsMessageReader, ReservedOpcodesAre1002) {
  for (uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    auto r = reader();
    auto ev = feed(r, client_frame(op, ""));
    ASSERT_EQ(ev.back().kind, Kind::kError) << int(op);
    EXPECT_EQ(ev.back().code, 1002);
  }
}

TEST(WsMessageReader, RsvBitsWithoutExtensionAre1002) {
  for (uint8_t rsv : {1, 2, 4}) {
    auto r = reader();
    auto ev = feed(r, client_frame(0x1, "x", true, true, rsv));
    ASSERT_EQ(ev.back().kind, Kind::kError);
    EXPECT_EQ(ev.back().code, 1002);
  }
}

TEST(WsMessageReader, ControlFrameRules) {
  {
    auto r = reader();  // fragmented ping
    EXPECT_EQ(feed(r, client_frame(0x9, "a", false)).back().code, 1002);
  }
  {
    auto r = reader();  // 126-byte ping
    EXPECT_EQ(feed(r, client_frame(0x9, std::string(126, 'a'))).back().code, 1002);
  }
  {
    auto r = reader();  // 125 bytes is allowed
    auto ev = feed(r, client_frame(0x9, std::string(125, 'a')));
    EXPECT_EQ(ev.back().kind, Kind::kPing);
  }
}

TEST(WsMessageReader, FragmentationErrors) {
  {
    auto r = reader();  // continuation with nothing to continue
    EXPECT_EQ(feed(r, client_frame(0x0, "x")).back().code, 1002);
  }
  {
    auto r = reader();  // a new text message inside a fragmented one
    EXPECT_EQ(feed(r, client_frame(0x1, "a", false) + client_frame(0x1, "b")).back().code, 1002);
  }
}

TEST(WsMessageReader, CloseInTheMiddleOfAFragmentedMessage) {
  auto r = reader();
  auto ev =
      feed(r, client_frame(0x1, "part", false) + client_frame(0x8, close_payload(1000, "bye")));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kClose);
  EXPECT_EQ(ev[0].code, 1000);
  EXPECT_EQ(ev[0].reason, "bye");
}

TEST(WsMessageReader, ClosePayloads) {
  {
    auto r = reader();
    auto ev = feed(r, client_frame(0x8, ""));
    EXPECT_EQ(ev.back().kind, Kind::kClose);
    EXPECT_EQ(ev.back().code, 1005);
  }
  {
    auto r = reader();
    EXPECT_EQ(feed(r, client_frame(0x8, "x")).back().code, 1002);  // 1-byte payload
  }
  for (uint16_t bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
    auto r = reader();
    auto ev = feed(r, client_frame(0x8, close_payload(bad)));
    EXPECT_EQ(ev.back().kind, Kind::kError) << bad;
    EXPECT_EQ(ev.back().code, 1002) << bad;
  }
  for (uint16_t good : {1000, 1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999}) {
    auto r = reader();
    auto ev = feed(r, client_frame(0x8, close_payload(good)));
    EXPECT_EQ(ev.back().kind, Kind::kClose) << good;
    EXPECT_EQ(ev.back().code, good);
  }
  {
    auto r = reader();  // reason not UTF-8
    EXPECT_EQ(feed(r, client_frame(0x8, close_payload(1000, "\xff"))).back().code, 1007);
  }
}

TEST(WsMessageReader, InvalidUtf8FailsFastInsideAFrame) {
  // The bad byte comes first; the frame's remaining 1000 bytes never arrive.
  std::string frame = client_frame(0x1, "\xc0" + std::string(1000, 'a'));
  auto r = reader();
  std::string partial = frame.substr(0, 20);
  size_t consumed = 0;
  ReadEvent ev = r.next(partial.data(), partial.size(), consumed);
  EXPECT_EQ(ev.kind, Kind::kError);
  EXPECT_EQ(ev.code, 1007);
}

TEST(WsMessageReader, Utf8AcrossFragments) {
  // U+20AC (E2 82 AC) split over three fragments is valid.
  auto r = reader();
  auto ev = feed(r, client_frame(0x1, "\xe2", false) + client_frame(0x0, "\x82", false) +
                        client_frame(0x0, "\xac"));
  ASSERT_EQ(ev.back().kind, Kind::kMessage);
  EXPECT_EQ(ev.back().data, "\xe2\x82\xac");
  auto r2 = reader();  // a message that ends inside a sequence is not
  EXPECT_EQ(feed(r2, client_frame(0x1, "ok\xe2\x82")).back().code, 1007);
  auto r3 = reader();  // binary messages are not checked
  EXPECT_EQ(feed(r3, client_frame(0x2, "\xff")).back().kind, Kind::kMessage);
}

TEST(WsMessageReader, FrameAndMessageLimitsAre1009) {
  {
    auto r = reader(100, 1000);
    // Only the head has arrived: the frame is refused before its payload is buffered.
    std::string head = client_frame(0x2, std::string(101, 'a')).substr(0, 6);
    size_t consumed = 0;
    ReadEvent ev = r.next(head.data(), head.size(), consumed);
    EXPECT_EQ(ev.kind, Kind::kError);
    EXPECT_EQ(ev.code, 1009);
  }
  {
    auto r = reader(100, 150);
    auto ev = feed(r, client_frame(0x2, std::string(100, 'a'), false) +
                          client_frame(0x0, std::string(51, 'a')));
    EXPECT_EQ(ev.back().code, 1009);
  }
  {
    auto r = reader(100, 150);
    auto ev = feed(r, client_frame(0x2, std::string(100, 'a'), false) +
                          client_frame(0x0, std::string(50, 'a')));
    EXPECT_EQ(ev.back().kind, Kind::kMessage);
  }
}

TEST(WsMessageReader, TopBitOfA64BitLengthIs1002) {
  std::string f = "\x82\xff";
  f += std::string("\x80\0\0\0\0\0\0\0", 8);
  f += "abcd";
  auto r = reader();
  EXPECT_EQ(feed(r, f).back().code, 1002);
}

TEST(WsMessageReader, ErrorIsSticky) {
  auto r = reader();
  auto ev = feed(r, client_frame(0x1, "x", true, false));
  std::string more = client_frame(0x1, "ok");
  size_t consumed = 0;
  EXPECT_EQ(r.next(more.data(), more.size(), consumed).kind, Kind::kError);
}

std::string deflate_message(Deflater& d, std::string_view m) {
  std::string out;
  EXPECT_TRUE(d.compress(m, out));
  return out;
}

TEST(WsMessageReader, PermessageDeflateRoundTripAcrossFragments) {
  DeflateParams p;
  Deflater d(p);
  Inflater inf(p);
  auto r = reader(1 << 20, 1 << 20, &inf);
  std::string text = "hello hello hello hello \xe2\x82\xac";
  std::string c1 = deflate_message(d, text);
  std::string c2 = deflate_message(d, text);  // context takeover: refers back to the first
  std::string wire = client_frame(0x1, c1, true, true, 4) +
                     client_frame(0x1, c2.substr(0, 2), false, true, 4) +
                     client_frame(0x0, c2.substr(2));
  auto ev = feed(r, wire, 5);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].data, text);
  EXPECT_EQ(ev[1].data, text);
  // RSV1 on a continuation frame is a protocol error (RFC 7692 §6.1).
  auto r2 = reader(1 << 20, 1 << 20, &inf);
  EXPECT_EQ(feed(r2, client_frame(0x1, "a", false, true, 4) + client_frame(0x0, "b", true, true, 4))
                .back()
                .code,
            1002);
}

TEST(WsMessageReader, ZipBombStopsAtTheMessageLimit) {
  DeflateParams p;
  Deflater d(p);
  Inflater inf(p);
  std::string bomb = deflate_message(d, std::string(10 << 20, 'a'));  // 10 MiB -> ~10 KiB
  ASSERT_LT(bomb.size(), 64u * 1024);
  auto r = reader(1 << 20, 1 << 20, &inf);
  auto ev = feed(r, client_frame(0x2, bomb, true, true, 4));
  ASSERT_EQ(ev.back().kind, Kind::kError);
  EXPECT_EQ(ev.back().code, 1009);
}

TEST(WsMessageReader, InvalidUtf8InsideCompressedText) {
  DeflateParams p;
  Deflater d(p);
  Inflater inf(p);
  auto r = reader(1 << 20, 1 << 20, &inf);
  EXPECT_EQ(feed(r, client_frame(0x1, deflate_message(d, "ab\xff"), true, true, 4)).back().code,
            1007);
}

}  // namespace
}  // namespace fa::ws
