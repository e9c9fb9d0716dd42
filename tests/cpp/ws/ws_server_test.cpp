// WebSocket on the real engine: handshake answers, echo, the close handshake, bad input with
// the RFC's close codes, keep-alive pings, backpressure, shutdown, broadcast.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "http/test_client.h"
#include "ws/broadcast.h"
#include "ws/deflater.h"
#include "ws/frame.h"
#include "ws/ws_server.h"
#include "ws/ws_test_util.h"

namespace fa::testing {
namespace {

using namespace std::chrono_literals;

struct Events {
  std::atomic<int> closes{0};
  std::atomic<int> last_code{0};
  std::atomic<int> drains{0};
};

// An echo route at /ws that records on_close; `limits` as given.
void echo_routes(http::Server& s, Events& ev, ws::Limits limits = {}) {
  s.websocket(
      "/ws",
      [&ev](http::Request&, ws::Upgrade up) {
        ws::Callbacks cb;
        cb.on_message = [](ws::Socket& so, std::string_view d, bool bin) {
          bin ? so.send_binary(d) : so.send_text(d);
        };
        cb.on_close = [&ev](ws::Socket&, uint16_t code, std::string_view) {
          ev.last_code = code;
          ++ev.closes;
        };
        up.accept({}, std::move(cb));
      },
      limits);
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = 3s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(WsServer, HandshakeAndEcho) {
  Events ev;
  ServerThread st([&](http::Server& s) { echo_routes(s, ev); });
  WsClient c(st.port());
  std::string head = c.handshake();
  EXPECT_NE(head.find("HTTP/1.1 101 Switching Protocols\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  c.send_frame(0x1, "hello");
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x1);
  EXPECT_EQ(f->payload, "hello");
  c.send_frame(0x2, std::string(100000, 'b'));
  f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x2);
  EXPECT_EQ(f->payload.size(), 100000u);
  c.send_frame(0x9, "ping!");
  f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0xA);
  EXPECT_EQ(f->payload, "ping!");
  // Client-initiated close: echoed code, then the server closes the TCP connection.
  c.send_frame(0x8, close_payload(1000, "done"));
  f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(f->close_code(), 1000);
  EXPECT_TRUE(c.wait_eof());
  ASSERT_TRUE(wait_for([&] { return ev.closes == 1; }));
  EXPECT_EQ(ev.last_code, 1000);
}

TEST(WsServer, FramesSentRightBehindTheHandshake) {
  Events ev;
  ServerThread st([&](http::Server& s) { echo_routes(s, ev); });
  WsClient c(st.port());
  c.send_raw(WsClient::upgrade_request() + client_frame(0x1, "early") + client_frame(0x1, "bird"));
  EXPECT_NE(c.read_head().find(" 101 "), std::string::npos);
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "early");
  f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "bird");
}

TEST(WsServer, HttpAnswersForBadHandshakes) {
  Events ev;
  bool drop = false;
  ServerThread st([&](http::Server& s) {
    echo_routes(s, ev);
    s.websocket("/drop", [&](http::Request&, ws::Upgrade) { drop = true; });
    s.websocket("/deny", [](http::Request&, ws::Upgrade up) { up.reject(404, "no room"); });
  });
  auto get = [&](std::string req) {
    WsClient c(st.port());
    c.send_raw(req);
    std::string out;
    char buf[4096];
    pollfd p{c.fd(), POLLIN, 0};
    while (::poll(&p, 1, 2000) > 0) {
      ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, n);
      if (out.find("\r\n\r\n") != std::string::npos) break;
    }
    return out;
  };
  std::string plain = get("GET /ws HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(plain.rfind("HTTP/1.1 426 ", 0), 0u) << plain;
  EXPECT_NE(plain.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  std::string badkey =
      get("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: "
          "Upgrade\r\nSec-WebSocket-Key: x\r\n"
          "Sec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(badkey.rfind("HTTP/1.1 400 ", 0), 0u) << badkey;
  WsClient d(st.port());
  EXPECT_EQ(d.handshake("/drop").rfind("HTTP/1.1 403 ", 0), 0u);
  EXPECT_TRUE(drop);
  WsClient n(st.port());
  EXPECT_EQ(n.handshake("/deny").rfind("HTTP/1.1 404 ", 0), 0u);
  EXPECT_EQ(ev.closes, 0);
}

TEST(WsServer, AcceptLaterFromATimerWithSubprotocolAndHeaders) {
  std::vector<std::string> offered;
  std::string param;
  ServerThread st([&](http::Server& s) {
    s.websocket("/rooms/{room}", [&](http::Request&, ws::Upgrade up) {
      offered = up.subprotocols();
      param = up.param("room");
      auto held = std::make_shared<ws::Upgrade>(std::move(up));
      s.loop().call_later(20ms, [held] {
        ws::Callbacks cb;
        cb.on_message = [](ws::Socket& so, std::string_view d, bool) {
          so.send_text(std::string(d) + "!");
        };
        auto sock = held->accept({"v2", {{"X-Room", "yes"}}}, std::move(cb));
        EXPECT_TRUE(sock);
        EXPECT_EQ(sock->subprotocol(), "v2");
      });
    });
  });
  WsClient c(st.port());
  std::string head = c.handshake("/rooms/blue", "Sec-WebSocket-Protocol: v1, v2\r\n");
  EXPECT_NE(head.find("Sec-WebSocket-Protocol: v2\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Room: yes\r\n"), std::string::npos);
  EXPECT_EQ(offered, (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(param, "blue");
  c.send_frame(0x1, "hi");
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "hi!");
}

// Bad input: each gets the RFC's close code, then the TCP connection ends; the server serves on.
struct BadCase {
  std::string name;
  std::string wire;
  uint16_t code;
};

TEST(WsServer, BadInputGetsTheRfcCloseCode) {
  Events ev;
  ws::Limits limits;
  limits.max_frame_bytes = 64 * 1024;
  limits.max_message_bytes = 128 * 1024;
  ServerThread st([&](http::Server& s) { echo_routes(s, ev, limits); });
  std::vector<BadCase> cases = {
      {"unmasked frame", client_frame(0x1, "hi", true, false), 1002},
      {"reserved opcode", client_frame(0x3, "x"), 1002},
      {"bad utf-8", client_frame(0x1, "\xce\xba\xff"), 1007},
      {"oversized frame (head only)",
       client_frame(0x2, std::string(64 * 1024 + 1, 'a')).substr(0, 14), 1009},
      {"oversized message",
       client_frame(0x2, std::string(64 * 1024, 'a'), false) +
           client_frame(0x0, std::string(64 * 1024, 'a'), false) + client_frame(0x0, "a"),
       1009},
      {"text inside a fragmented message", client_frame(0x1, "a", false) + client_frame(0x1, "b"),
       1002},
      {"invalid close code", client_frame(0x8, close_payload(1005)), 1002},
      {"RSV1 without deflate", client_frame(0x1, "x", true, true, 4), 1002},
  };
  int expected_closes = 0;
  for (const auto& bc : cases) {
    WsClient c(st.port());
    ASSERT_NE(c.handshake().find(" 101 "), std::string::npos);
    c.send_raw(bc.wire);
    auto f = c.read_frame();
    ASSERT_TRUE(f) << bc.name;
    EXPECT_EQ(f->opcode, 0x8) << bc.name;
    EXPECT_EQ(f->close_code(), bc.code) << bc.name;
    EXPECT_TRUE(c.wait_eof()) << bc.name;
    ++expected_closes;
    ASSERT_TRUE(wait_for([&] { return ev.closes == expected_closes; })) << bc.name;
    EXPECT_EQ(ev.last_code, bc.code) << bc.name;
  }
  // A close in the middle of a fragmented message is a normal close.
  WsClient c(st.port());
  c.handshake();
  c.send_raw(client_frame(0x1, "part", false) + client_frame(0x8, close_payload(1000)));
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->close_code(), 1000);
  EXPECT_TRUE(c.wait_eof());
  // Still serving.
  WsClient ok(st.port());
  ok.handshake();
  ok.send_frame(0x1, "still here");
  f = ok.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "still here");
}

TEST(WsServer, AbruptDisconnectReports1006Once) {
  Events ev;
  ServerThread st([&](http::Server& s) { echo_routes(s, ev); });
  {
    WsClient c(st.port());
    c.handshake();
    c.send_frame(0x1, "x");
    ASSERT_TRUE(c.read_frame());
  }  // closed without a close frame
  ASSERT_TRUE(wait_for([&] { return ev.closes == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ev.closes, 1);
  EXPECT_EQ(ev.last_code, 1006);
}

TEST(WsServer, ServerInitiatedCloseWaitsForTheReply) {
  std::atomic<int> code{0};
  ServerThread st([&](http::Server& s) {
    s.websocket("/ws", [&](http::Request&, ws::Upgrade up) {
      ws::Callbacks cb;
      cb.on_message = [](ws::Socket& so, std::string_view, bool) { so.close(4000, "bye"); };
      cb.on_close = [&](ws::Socket&, uint16_t c, std::string_view) { code = c; };
      up.accept({}, std::move(cb));
    });
  });
  WsClient c(st.port());
  c.handshake();
  c.send_frame(0x1, "close me");
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(f->close_code(), 4000);
  EXPECT_EQ(f->payload.substr(2), "bye");
  EXPECT_EQ(code, 0);  // not closed until the peer answers
  c.send_frame(0x8, close_payload(4000));
  EXPECT_TRUE(c.wait_eof());
  ASSERT_TRUE(wait_for([&] { return code != 0; }));
  EXPECT_EQ(code, 4000);
}

TEST(WsServer, PingsAndDropsAPeerThatNeverAnswers) {
  Events ev;
  ws::Limits limits;
  limits.ping_interval = 1s;  // the deadline sweep runs once a second
  limits.pong_timeout = 1s;
  ServerThread st([&](http::Server& s) { echo_routes(s, ev, limits); });
  WsClient answers(st.port()), silent(st.port());
  answers.handshake();
  silent.handshake();
  // `answers` pongs every ping it gets (each quiet second brings another, so a single pong
  // would let it be dropped too while a slow run waits for the silent one).
  auto pong_pending = [&](int timeout_ms) {
    int pings = 0;
    while (auto f = answers.read_frame(timeout_ms)) {
      EXPECT_EQ(f->opcode, 0x9);
      answers.send_frame(0xA, f->payload);
      ++pings;
      timeout_ms = 0;
    }
    return pings;
  };
  int pings = 0;
  for (int i = 0; i < 80 && pings == 0; ++i) pings += pong_pending(100);
  EXPECT_GE(pings, 1);
  auto q = silent.read_frame(4000);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->opcode, 0x9);
  bool dropped = false;  // no pong: dropped
  for (int i = 0; i < 100 && !dropped; ++i) {
    dropped = silent.wait_eof(100);
    pong_pending(0);
  }
  EXPECT_TRUE(dropped);
  ASSERT_TRUE(wait_for([&] {
    pong_pending(0);
    return ev.closes == 1;
  }));
  EXPECT_EQ(ev.last_code, 1006);
  pong_pending(0);
  answers.send_frame(0x1, "alive");  // the one that answered is still open
  std::optional<ServerFrame> f;
  do f = answers.read_frame();
  while (f && f->opcode == 0x9);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "alive");
}

TEST(WsServer, ABusyConnectionIsNotPinged) {
  // Traffic from the peer proves it alive: no keep-alive ping while it keeps sending.
  Events ev;
  ws::Limits limits;
  limits.ping_interval = 1s;
  limits.pong_timeout = 1s;
  ServerThread st([&](http::Server& s) { echo_routes(s, ev, limits); });
  WsClient c(st.port());
  c.handshake();
  auto end = std::chrono::steady_clock::now() + 3500ms;
  int echoed = 0;
  while (std::chrono::steady_clock::now() < end) {
    c.send_frame(0x1, "busy");
    auto f = c.read_frame();
    ASSERT_TRUE(f);
    ASSERT_EQ(f->opcode, 0x1) << "pinged although the client kept sending";
    ++echoed;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_GE(echoed, 10);
  EXPECT_EQ(ev.closes, 0);
}

TEST(WsServer, ShutdownSends1001) {
  Events ev;
  ServerThread st([&](http::Server& s) { echo_routes(s, ev); });
  WsClient c(st.port());
  c.handshake();
  st.run_on_loop([&] { st.server().shutdown(5s); });
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(f->close_code(), 1001);
  c.send_frame(0x8, close_payload(1001));
  EXPECT_TRUE(c.wait_eof());
  ASSERT_TRUE(wait_for([&] { return ev.closes == 1; }));
  EXPECT_EQ(ev.last_code, 1001);
}

TEST(WsServer, BackpressureOnAReaderThatNeverReads) {
  // The server sends 64 KiB messages to a client that never reads: send_binary turns false at
  // the high-water mark, the queue stays bounded, and on_drain fires once the client reads.
  std::atomic<int> accepted_sends{0};
  std::atomic<bool> refused{false};
  std::atomic<size_t> max_buffered{0};
  std::atomic<int> drains{0};
  http::ServerConfig cfg;
  ServerThread st(
      [&](http::Server& s) {
        s.websocket("/ws", [&](http::Request&, ws::Upgrade up) {
          ws::Callbacks cb;
          cb.on_drain = [&](ws::Socket&) { ++drains; };
          auto sock = up.accept({}, std::move(cb));
          std::string chunk(64 * 1024, 'z');
          while (sock->send_binary(chunk)) ++accepted_sends;
          refused = true;
          max_buffered = sock->buffered();
        });
      },
      cfg);
  WsClient c(st.port());
  c.handshake();
  ASSERT_TRUE(wait_for([&] { return refused.load(); }));
  EXPECT_GT(accepted_sends, 0);
  // Bounded: the high-water mark plus one message.
  EXPECT_LE(max_buffered, cfg.write_high_water + 64 * 1024 + 16);
  size_t got = 0;
  while (got < (accepted_sends + 1) * 64u * 1024) {
    auto f = c.read_frame();
    ASSERT_TRUE(f);
    got += f->payload.size();
  }
  ASSERT_TRUE(wait_for([&] { return drains == 1; }));
}

TEST(WsServer, PermessageDeflateEcho) {
  Events ev;
  ServerThread st([&](http::Server& s) { echo_routes(s, ev); });
  WsClient c(st.port());
  std::string head = c.handshake(
      "/ws", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
  EXPECT_NE(head.find("Sec-WebSocket-Extensions: permessage-deflate\r\n"), std::string::npos)
      << head;
  // An uncompressed message from the client (RSV1 clear) is allowed; the echo comes compressed.
  std::string text(1000, 'q');
  c.send_frame(0x1, text);
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->rsv1);
  EXPECT_LT(f->payload.size(), 100u);
  ws::Inflater inf(ws::DeflateParams{});
  std::string out;
  ASSERT_EQ(inf.inflate(f->payload, true, out, 1 << 20), ws::Inflater::Result::kOk);
  EXPECT_EQ(out, text);
}

TEST(WsServer, BroadcastEncodesOnce) {
  std::vector<ws::SocketPtr> sockets;
  ServerThread st([&](http::Server& s) {
    s.websocket("/ws", [&](http::Request&, ws::Upgrade up) {
      ws::Callbacks cb;
      cb.on_message = [&](ws::Socket&, std::string_view d, bool) {
        EXPECT_EQ(ws::broadcast(sockets, ws::encode_frame(ws::Opcode::kText, d)), sockets.size());
      };
      sockets.push_back(up.accept({}, std::move(cb)));
    });
  });
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<WsClient>(st.port()));
    ASSERT_NE(clients.back()->handshake().find(" 101 "), std::string::npos);
  }
  clients[3]->send_frame(0x1, "to everyone");
  for (auto& c : clients) {
    auto f = c->read_frame();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->payload, "to everyone");
  }
  st.run_on_loop([&] { sockets.clear(); });
}

}  // namespace
}  // namespace fa::testing
