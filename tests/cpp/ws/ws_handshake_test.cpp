// Opening handshake (RFC 6455 §4.2) and permessage-deflate negotiation (RFC 7692 §7.1).
#include "ws/handshake.h"

#include <gtest/gtest.h>

#include <string>

#include "ws/deflate_params.h"
#include "ws/deflater.h"
#include "ws/frame.h"

namespace fa::ws {
namespace {

struct Parsed {
  std::string buf;
  http::RequestHead head;
};

Parsed parse(std::string extra, std::string first = "GET /ws HTTP/1.1") {
  Parsed p;
  p.buf = first + "\r\nHost: h\r\n" + extra + "\r\n";
  http::RequestParser parser{http::ParserLimits{}};
  EXPECT_GT(parser.parse_request(p.buf, 0, p.head), 0);
  return p;
}

const std::string kGood =
    "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: "
    "dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n";

TEST(WsHandshake, AcceptKeyOfRfc6455Example) {
  // §1.3's example key and answer.
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

// RFC 8441 §5: H2Protocol hands an extended CONNECT to the route as method CONNECT, version 2.
TEST(WsHandshake, ExtendedConnectOverHttp2) {
  auto get = parse(kGood);
  EXPECT_FALSE(is_extended_connect(get.head));
  auto h2 = parse("Sec-WebSocket-Version: 13\r\n", "CONNECT /ws HTTP/1.1");
  h2.head.version_major = 2;
  ASSERT_TRUE(is_extended_connect(h2.head));
  EXPECT_EQ(check_h2_handshake(h2.head).status, 0);
  auto no_version = parse("", "CONNECT /ws HTTP/1.1");
  EXPECT_EQ(check_h2_handshake(no_version.head).status, 426);
  auto old = parse("Sec-WebSocket-Version: 8\r\n", "CONNECT /ws HTTP/1.1");
  EXPECT_EQ(check_h2_handshake(old.head).status, 426);
  auto keyed = parse("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                     "CONNECT /ws HTTP/1.1");
  EXPECT_EQ(check_h2_handshake(keyed.head).status, 400);
  // The 200's fields: the subprotocol, the extensions, the app's headers minus unsafe ones.
  EXPECT_EQ(tunnel_response_fields("chat", "permessage-deflate",
                                   {{"X-A", "1"}, {"X-Bad", "a\r\nb"}, {"", "x"}}),
            "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
            "X-A: 1\r\n");
}

TEST(WsHandshake, ChecksTheRequest) {
  auto ok = parse(kGood);
  HandshakeCheck c = check_handshake(ok.head);
  EXPECT_EQ(c.status, 0);
  EXPECT_EQ(c.key, "dGhlIHNhbXBsZSBub25jZQ==");

  EXPECT_EQ(check_handshake(parse("").head).status, 426);  // a plain GET
  auto v8 = parse(
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 8\r\n");
  EXPECT_EQ(check_handshake(v8.head).status, 426);
  auto nokey = parse("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n");
  EXPECT_EQ(check_handshake(nokey.head).status, 400);
  auto badkey = parse(
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\n"
      "Sec-WebSocket-Version: 13\r\n");
  EXPECT_EQ(check_handshake(badkey.head).status, 400);
  auto http10 = parse(kGood, "GET /ws HTTP/1.0");
  EXPECT_EQ(check_handshake(http10.head).status, 400);
}

TEST(WsHandshake, SubprotocolsAndResponseHead) {
  auto p =
      parse(kGood + "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Protocol: v2\r\n");
  EXPECT_EQ(requested_subprotocols(p.head), (std::vector<std::string>{"chat", "superchat", "v2"}));
  std::string head = switching_protocols_head("ACC", "chat", "permessage-deflate",
                                              {{"X-A", "1"}, {"X-Bad", "a\r\nInjected: 1"}});
  EXPECT_EQ(head,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: ACC\r\nSec-WebSocket-Protocol: chat\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate\r\nX-A: 1\r\n\r\n");
}

TEST(WsDeflateParams, Negotiation) {
  DeflateParams p;
  std::string resp;
  EXPECT_FALSE(negotiate_deflate("x-webkit-deflate-frame", p, resp));
  ASSERT_TRUE(negotiate_deflate("permessage-deflate; client_max_window_bits", p, resp));
  EXPECT_EQ(resp, "permessage-deflate");
  ASSERT_TRUE(
      negotiate_deflate("permessage-deflate; server_no_context_takeover; "
                        "client_no_context_takeover; server_max_window_bits=10; "
                        "client_max_window_bits=\"12\"",
                        p, resp));
  EXPECT_TRUE(p.server_no_context_takeover);
  EXPECT_TRUE(p.client_no_context_takeover);
  EXPECT_EQ(p.server_max_window_bits, 10);
  EXPECT_EQ(p.client_max_window_bits, 12);
  EXPECT_EQ(resp,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=12");
  // Offers with unknown, duplicate or out-of-range parameters are declined; the next is taken.
  ASSERT_TRUE(
      negotiate_deflate("permessage-deflate; foo, permessage-deflate; server_max_window_bits=7, "
                        "permessage-deflate; server_no_context_takeover; "
                        "server_no_context_takeover, permessage-deflate; "
                        "server_max_window_bits, permessage-deflate; server_max_window_bits=9",
                        p, resp));
  EXPECT_EQ(resp, "permessage-deflate; server_max_window_bits=9");
}

TEST(WsDeflater, EightBitWindowAndNoContextTakeover) {
  // server_max_window_bits=8: what we send must inflate with a 256-byte window.
  DeflateParams p;
  p.server_max_window_bits = 8;
  p.server_no_context_takeover = true;
  Deflater d(p);
  std::string msg;
  for (int i = 0; i < 200; ++i) msg += "abcdefghij" + std::to_string(i % 7);
  std::string c;
  ASSERT_TRUE(d.compress(msg, c));
  Inflater inf(DeflateParams{});
  std::string out;
  EXPECT_EQ(inf.inflate(c, true, out, 1 << 20), Inflater::Result::kOk);
  EXPECT_EQ(out, msg);
  // No context takeover: the second message inflates on a fresh inflater too.
  std::string c2;
  ASSERT_TRUE(d.compress(msg, c2));
  Inflater fresh(DeflateParams{});
  out.clear();
  EXPECT_EQ(fresh.inflate(c2, true, out, 1 << 20), Inflater::Result::kOk);
  EXPECT_EQ(out, msg);
}

TEST(WsDeflater, EmptyMessageBetweenMessagesKeepsTheStreamValid) {
  // RFC 7692 §7.2.3.6: an empty message is sent as the single octet 0x00. zlib emits nothing
  // for a flush with no new input, and an empty payload desynchronises a peer's inflater
  // (its appended 00 00 FF FF is then read as a stored block's lengths).
  Deflater d(DeflateParams{});
  Inflater inf(DeflateParams{});
  for (std::string_view msg : {"a", "", "", "b"}) {
    std::string c;
    ASSERT_TRUE(d.compress(msg, c));
    EXPECT_FALSE(c.empty());
    std::string out;
    ASSERT_EQ(inf.inflate(c, true, out, 1 << 20), Inflater::Result::kOk) << "message " << msg;
    EXPECT_EQ(out, msg);
  }
}

TEST(WsDeflater, CorruptInputIsAnError) {
  Inflater inf(DeflateParams{});
  std::string out;
  EXPECT_EQ(inf.inflate("\xff\xff\xff\xff", true, out, 1 << 20), Inflater::Result::kError);
}

TEST(WsFrame, EncodeFrameHeads) {
  EXPECT_EQ(encode_frame(Opcode::kText, "hi").bytes, "\x81\x02hi");
  EncodedFrame f = encode_frame(Opcode::kBinary, std::string(126, 'a'));
  EXPECT_EQ(f.bytes.substr(0, 4), std::string("\x82\x7e\x00\x7e", 4));
  f = encode_frame(Opcode::kBinary, std::string(65536, 'a'));
  EXPECT_EQ(f.bytes.substr(0, 10), std::string("\x82\x7f\0\0\0\0\0\x01\0\0", 10));
  EXPECT_EQ(f.bytes.size(), 65536u + 10);
}

}  // namespace
}  // namespace fa::ws
