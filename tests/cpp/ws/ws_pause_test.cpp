// ws::Socket::pause_reading/resume_reading on the real engine: a paused socket delivers
// nothing more, stops reading (TCP flow control stalls a client that keeps sending), is not
// dropped by keep-alive, and after resume delivers every message in order, then the peer's close.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include "http/server.h"
#include "http/test_client.h"
#include "ws/ws_server.h"
#include "ws/ws_test_util.h"

namespace fa::testing {
namespace {

using namespace std::chrono_literals;

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

std::string numbered(uint32_t i, size_t size) {
  std::string m(size, 'p');
  std::memcpy(m.data(), &i, sizeof i);
  return m;
}

// A route whose socket pauses itself on its first message; messages are checked for order.
struct PausingRoute {
  ws::SocketPtr sock;
  std::atomic<uint32_t> got{0};
  std::atomic<bool> out_of_order{false};
  std::atomic<int> closes{0};
  std::atomic<int> close_code{0};

  void install(http::Server& s, ws::Limits limits = {}) {
    s.websocket(
        "/ws",
        [this](http::Request&, ws::Upgrade up) {
          ws::Callbacks cb;
          cb.on_message = [this](ws::Socket& so, std::string_view d, bool) {
            uint32_t i = 0;
            if (d.size() >= sizeof i) std::memcpy(&i, d.data(), sizeof i);
            if (i != got) out_of_order = true;
            if (++got == 1) so.pause_reading();
          };
          cb.on_close = [this](ws::Socket&, uint16_t code, std::string_view) {
            close_code = code;
            ++closes;
          };
          sock = up.accept({}, std::move(cb));
        },
        limits);
  }
};

TEST(WsPause, APausedSocketStallsThePeerAndResumesWithoutLoss) {
  PausingRoute route;
  ws::Limits limits;
  limits.ping_interval = 1s;  // the deadline sweep runs once a second
  limits.pong_timeout = 1s;
  ServerThread st([&](http::Server& s) { route.install(s, limits); });
  WsClient c(st.port());
  ASSERT_NE(c.handshake().find(" 101 "), std::string::npos);

  constexpr uint32_t kTotal = 1024;        // 64 MiB of 64 KiB messages
  constexpr size_t kSize = 64 * 1024;
  std::atomic<uint32_t> sent{0};
  std::thread sender([&] {
    for (uint32_t i = 0; i < kTotal; ++i) {
      c.send_frame(0x2, numbered(i, kSize));
      sent = i + 1;
    }
    c.send_frame(0x8, close_payload(1000, "done"));
  });
  // Paused after the first message: nothing more is delivered, and the client's sends stall
  // once the kernel's buffers are full, for longer than ping interval + pong timeout.
  std::this_thread::sleep_for(1s);
  uint32_t stalled = sent;
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(route.got, 1u);
  EXPECT_EQ(sent, stalled) << "the client kept sending to a paused socket";
  EXPECT_LT(stalled, kTotal / 2);
  EXPECT_EQ(route.closes, 0) << "dropped by keep-alive while paused";

  st.run_on_loop([&] {
    EXPECT_TRUE(route.sock->reading_paused());
    route.sock->resume_reading();
    EXPECT_EQ(route.got, 1u) << "held input delivered from inside resume_reading()";
  });
  sender.join();
  ASSERT_TRUE(wait_for([&] { return route.closes == 1; }));
  EXPECT_EQ(route.got, kTotal);
  EXPECT_FALSE(route.out_of_order);
  EXPECT_EQ(route.close_code, 1000);
  std::optional<ServerFrame> f;
  do f = c.read_frame();
  while (f && f->opcode == 0x9);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(f->close_code(), 1000);
  EXPECT_TRUE(c.wait_eof());
  st.run_on_loop([&] { route.sock.reset(); });
}

TEST(WsPause, HeldMessagesAreDeliveredOnResumeWithoutNewInput) {
  // Three messages arrive in one read; the first pauses the socket. Resuming must deliver the
  // other two from the input buffer, although the kernel has nothing new to wake us.
  PausingRoute route;
  ServerThread st([&](http::Server& s) { route.install(s); });
  WsClient c(st.port());
  c.send_raw(WsClient::upgrade_request() + client_frame(0x2, numbered(0, 8)) +
             client_frame(0x2, numbered(1, 8)) + client_frame(0x2, numbered(2, 8)));
  ASSERT_NE(c.read_head().find(" 101 "), std::string::npos);
  ASSERT_TRUE(wait_for([&] { return route.got == 1; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(route.got, 1u);
  st.run_on_loop([&] { route.sock->resume_reading(); });
  ASSERT_TRUE(wait_for([&] { return route.got == 3; }));
  EXPECT_FALSE(route.out_of_order);
  st.run_on_loop([&] { route.sock.reset(); });
}

TEST(WsPause, CloseWhilePausedReadsThePeersReply) {
  // close() on a paused socket resumes reading, so the peer's answering close frame is seen
  // (not the close timeout), and messages held back are not delivered after our close.
  PausingRoute route;
  ServerThread st([&](http::Server& s) { route.install(s); });
  WsClient c(st.port());
  c.handshake();
  c.send_frame(0x2, numbered(0, 8));
  c.send_frame(0x2, numbered(1, 8));
  ASSERT_TRUE(wait_for([&] { return route.got == 1; }));
  st.run_on_loop([&] { route.sock->close(4001, "bye"); });
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(f->close_code(), 4001);
  c.send_frame(0x8, close_payload(4001));
  EXPECT_TRUE(c.wait_eof(2000));  // well within the 5 s close timeout
  ASSERT_TRUE(wait_for([&] { return route.closes == 1; }));
  EXPECT_EQ(route.close_code, 4001);
  EXPECT_EQ(route.got, 1u);
  st.run_on_loop([&] { route.sock.reset(); });
}

TEST(WsPause, EofWhilePausedWaitsForTheHeldMessages) {
  // The client sends two messages and a close frame, then shuts its side down, while the
  // socket is paused: after resume the messages and the close (1000), not 1006, are reported.
  PausingRoute route;
  ServerThread st([&](http::Server& s) { route.install(s); });
  WsClient c(st.port());
  c.handshake();
  c.send_frame(0x2, numbered(0, 8));
  ASSERT_TRUE(wait_for([&] { return route.got == 1; }));
  c.send_frame(0x2, numbered(1, 8));
  c.send_frame(0x2, numbered(2, 8));
  c.send_frame(0x8, close_payload(1000));
  ::shutdown(c.fd(), SHUT_WR);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(route.closes, 0);
  st.run_on_loop([&] { route.sock->resume_reading(); });
  ASSERT_TRUE(wait_for([&] { return route.closes == 1; }));
  EXPECT_EQ(route.got, 3u);
  EXPECT_EQ(route.close_code, 1000);
  EXPECT_FALSE(route.out_of_order);
  st.run_on_loop([&] { route.sock.reset(); });
}

}  // namespace
}  // namespace fa::testing
