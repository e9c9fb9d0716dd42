// HTTP/2 on both loop backends (epoll and io_uring), where the ring's completion path must keep
// epoll's ordering: a graceful shutdown (RFC 9113 §6.8) sends GOAWAY and lets streams in flight
// finish, their HEADERS and DATA both reaching the client before the connection closes.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/event_loop.h"
#include "http/server.h"
#include "http/test_client.h"

namespace fa {
namespace {

using namespace std::chrono_literals;
using fa::testing::connect_to;
using fa::testing::send_all;
using fa::testing::ServerThread;

class H2Backend : public ::testing::TestWithParam<LoopBackend> {};

std::string name(const ::testing::TestParamInfo<LoopBackend>& p) {
  return loop_backend_name(p.param);
}

// A blocking h2 client (prior knowledge) on nghttp2's client session: what each stream got,
// the GOAWAY, and whether the server closed the connection.
class H2Client {
 public:
  explicit H2Client(uint16_t port) : fd_(connect_to(port)) {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                const uint8_t* v, size_t vl, uint8_t, void* u) {
          if (std::string_view(reinterpret_cast<const char*>(n), nl) == ":status")
            static_cast<H2Client*>(u)->status[f->hd.stream_id] =
                std::string(reinterpret_cast<const char*>(v), vl);
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t n, void* u) {
          static_cast<H2Client*>(u)->body[id].append(reinterpret_cast<const char*>(d), n);
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) {
          auto* c = static_cast<H2Client*>(u);
          if (f->hd.type == NGHTTP2_GOAWAY) c->goaway_last_stream = f->goaway.last_stream_id;
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cbs, [](nghttp2_session*, int32_t id, uint32_t, void* u) {
          static_cast<H2Client*>(u)->ended.insert(id);
          return 0;
        });
    nghttp2_session_client_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~H2Client() {
    nghttp2_session_del(session_);
    ::close(fd_);
  }
  H2Client(const H2Client&) = delete;
  H2Client& operator=(const H2Client&) = delete;

  int32_t get(std::string_view path) {
    auto nv = [](std::string_view n, std::string_view v) {
      return nghttp2_nv{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(n.data())),
                        const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(v.data())), n.size(),
                        v.size(), NGHTTP2_NV_FLAG_NONE};
    };
    nghttp2_nv nva[] = {nv(":method", "GET"), nv(":scheme", "http"), nv(":authority", "localhost"),
                        nv(":path", path)};
    return nghttp2_submit_request(session_, nullptr, nva, std::size(nva), nullptr, nullptr);
  }

  // Exchanges frames until done() holds, the server closes (server_closed), or 5 s pass.
  template <class Done>
  bool run(Done done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done()) {
      const uint8_t* out = nullptr;
      for (ssize_t n; (n = nghttp2_session_mem_send(session_, &out)) > 0;)
        send_all(fd_, std::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(n)));
      if (server_closed || std::chrono::steady_clock::now() > deadline) return done();
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        server_closed = true;
        continue;
      }
      if (nghttp2_session_mem_recv(session_, reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n)) < 0)
        return false;
    }
    return true;
  }

  std::map<int32_t, std::string> status, body;
  std::set<int32_t> ended;
  int32_t goaway_last_stream = -1;
  bool server_closed = false;

 private:
  int fd_;
  nghttp2_session* session_ = nullptr;
};

// The answer of a request in flight is sent from outside a completion (as a Python Task or a
// C++ future does) after the server began draining: nghttp2 closes the stream while producing
// its last DATA frame, which makes the connection close-after-flush before that frame is
// queued; the HEADERS already queued must not be flushed alone and the write side shut.
TEST_P(H2Backend, GracefulShutdownFinishesStreamInFlight) {
  std::vector<http::ResponseHandle> parked;
  ServerThread st(GetParam(), [&](http::Server& s) {
    s.route("GET", "/later", [&](http::Request&, http::Response& res) { parked.push_back(res.detach()); });
    s.route("GET", "/now", [](http::Request&, http::Response& res) { res.send(200, "text/plain", "now"); });
  });
  ASSERT_EQ(st.loop().backend(), GetParam());
  H2Client c(st.port());
  int32_t slow = c.get("/later");
  int32_t fast = c.get("/now");
  // The fast answer proves the slow request was dispatched (frames are handled in order).
  ASSERT_TRUE(c.run([&] { return c.ended.count(fast) > 0; }));
  EXPECT_EQ(c.body[fast], "now");
  st.run_on_loop([&] { st.server().shutdown(5s); });
  ASSERT_TRUE(c.run([&] { return c.goaway_last_stream >= 0; }));
  EXPECT_EQ(c.goaway_last_stream, fast);
  st.run_on_loop([&] {
    ASSERT_EQ(parked.size(), 1u);
    EXPECT_TRUE(parked[0].send({200, "text/plain", {}}, "done after GOAWAY"));
  });
  EXPECT_TRUE(c.run([&] { return c.ended.count(slow) > 0; }));
  EXPECT_EQ(c.status[slow], "200");
  EXPECT_EQ(c.body[slow], "done after GOAWAY");
  // Then the server closes the connection (it asked for no more streams).
  EXPECT_TRUE(c.run([&] { return c.server_closed; }));
}

INSTANTIATE_TEST_SUITE_P(Loop, H2Backend, ::testing::Values(LoopBackend::kEpoll, LoopBackend::kUring),
                         name);

}  // namespace
}  // namespace fa
