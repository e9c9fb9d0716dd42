// Server push from a C++ handler (Response::push, RFC 9113 §8.4) against a real nghttp2 client
// session over a socket: PUSH_PROMISE on the request's stream and the pushed response from the
// same router when the client allows push; nothing when it sent SETTINGS_ENABLE_PUSH 0 or
// speaks HTTP/1.1; bad paths refused.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "http/server.h"
#include "http/test_client.h"

namespace fa::h2 {
namespace {

using fa::testing::connect_to;
using fa::testing::read_response;
using fa::testing::send_all;
using fa::testing::ServerThread;

void routes(http::Server& s) {
  s.route("GET", "/page", [](http::Request&, http::Response& res) {
    bool pushed = res.push("/style.css?v=1");
    bool bad = res.push("style.css") || res.push("/a b") || res.push("");
    std::string extra = std::string("X-Pushed: ") + (pushed ? "1" : "0") + "\r\n" +
                        "X-Bad-Pushed: " + (bad ? "1" : "0") + "\r\n";
    res.send({200, "text/html", extra}, "<p>page</p>");
    // Once the response is sent, no more promises can ride its stream.
    EXPECT_FALSE(res.push("/late.css"));
  });
  s.route("GET", "/style.css", [](http::Request& req, http::Response& res) {
    res.send(200, "text/css", req.head.target);
  });
}

// A blocking HTTP/2 client on nghttp2's client session, recording what each stream got.
struct Client {
  nghttp2_session* session = nullptr;
  int fd = -1;
  std::map<int32_t, std::map<std::string, std::string>> fields;  // per stream (last value)
  std::map<int32_t, std::string> bodies;
  std::map<int32_t, int32_t> promised;  // promised stream -> associated stream
  std::set<int32_t> closed;

  Client(uint16_t port, bool enable_push) {
    fd = connect_to(port);
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                const uint8_t* v, size_t vl, uint8_t, void* u) {
          auto* c = static_cast<Client*>(u);
          int32_t id = f->hd.type == NGHTTP2_PUSH_PROMISE ? f->push_promise.promised_stream_id
                                                          : f->hd.stream_id;
          c->fields[id][std::string(reinterpret_cast<const char*>(n), nl)] =
              std::string(reinterpret_cast<const char*>(v), vl);
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) {
          if (f->hd.type == NGHTTP2_PUSH_PROMISE)
            static_cast<Client*>(u)->promised[f->push_promise.promised_stream_id] = f->hd.stream_id;
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t n, void* u) {
          static_cast<Client*>(u)->bodies[id].append(reinterpret_cast<const char*>(d), n);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cbs, [](nghttp2_session*, int32_t id, uint32_t, void* u) {
          static_cast<Client*>(u)->closed.insert(id);
          return 0;
        });
    nghttp2_session_client_new(&session, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry s[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, enable_push ? 1u : 0u}};
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, s, 1);
  }
  ~Client() {
    nghttp2_session_del(session);
    ::close(fd);
  }

  int32_t get(std::string_view path) {
    auto nv = [](std::string_view n, std::string_view v) {
      return nghttp2_nv{(uint8_t*)n.data(), (uint8_t*)v.data(), n.size(), v.size(),
                        NGHTTP2_NV_FLAG_NONE};
    };
    nghttp2_nv nva[] = {nv(":method", "GET"), nv(":scheme", "http"), nv(":authority", "localhost"),
                        nv(":path", path), nv("accept-encoding", "identity")};
    return nghttp2_submit_request(session, nullptr, nva, std::size(nva), nullptr, nullptr);
  }

  // Exchanges frames until `done()` or 5 s pass.
  template <class Done>
  bool run(Done done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      const uint8_t* out = nullptr;
      for (ssize_t n; (n = nghttp2_session_mem_send(session, &out)) > 0;)
        send_all(fd, std::string_view(reinterpret_cast<const char*>(out), size_t(n)));
      if (done()) break;
      pollfd p{fd, POLLIN, 0};
      if (std::chrono::steady_clock::now() > deadline || ::poll(&p, 1, 100) < 0) return false;
      if (!(p.revents & POLLIN)) continue;
      char buf[16384];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      if (nghttp2_session_mem_recv(session, reinterpret_cast<uint8_t*>(buf), size_t(n)) < 0)
        return false;
    }
    return true;
  }
};

TEST(H2Push, PromiseThenPushedResponseFromTheSameRouter) {
  ServerThread srv(routes);
  Client c(srv.port(), true);
  int32_t sid = c.get("/page");
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) && c.closed.size() >= 2; }));
  EXPECT_EQ(c.fields[sid]["x-pushed"], "1");
  EXPECT_EQ(c.fields[sid]["x-bad-pushed"], "0");
  EXPECT_EQ(c.bodies[sid], "<p>page</p>");
  ASSERT_EQ(c.promised.size(), 1u);
  auto [pid, parent] = *c.promised.begin();
  EXPECT_EQ(parent, sid);
  EXPECT_EQ(pid % 2, 0);  // server-initiated (§5.1.1)
  EXPECT_EQ(c.fields[pid][":method"], "GET");
  EXPECT_EQ(c.fields[pid][":path"], "/style.css?v=1");
  EXPECT_EQ(c.fields[pid][":authority"], "localhost");
  EXPECT_EQ(c.fields[pid][":scheme"], "http");
  EXPECT_EQ(c.fields[pid]["accept-encoding"], "identity");  // copied from the request
  EXPECT_EQ(c.fields[pid][":status"], "200");
  EXPECT_EQ(c.fields[pid]["content-type"], "text/css");
  EXPECT_EQ(c.bodies[pid], "/style.css?v=1");
}

TEST(H2Push, NothingWhenTheClientDisabledPush) {
  ServerThread srv(routes);
  Client c(srv.port(), false);
  int32_t sid = c.get("/page");
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) > 0; }));
  EXPECT_EQ(c.fields[sid]["x-pushed"], "0");
  EXPECT_TRUE(c.promised.empty());
  int32_t again = c.get("/style.css");  // the connection is unharmed
  ASSERT_TRUE(c.run([&] { return c.closed.count(again) > 0; }));
  EXPECT_EQ(c.bodies[again], "/style.css");
}

TEST(H2Push, NoPushOverHttp11) {
  ServerThread srv(routes);
  int fd = connect_to(srv.port());
  send_all(fd, "GET /page HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string pending;
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.header("x-pushed"), "0");
  EXPECT_EQ(r.header("x-bad-pushed"), "0");
  ::close(fd);
}

}  // namespace
}  // namespace fa::h2
