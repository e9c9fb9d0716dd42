// Streamed request bodies over HTTP/2 (Server::route_streaming, h2/body_stream.cpp) against a
// real nghttp2 client session over a socket: a body in many DATA frames read as it arrives, the
// stream's window staying shut until the handler reads (RFC 9113 §5.2), trailers, 413, 408,
// a client reset mid-body, and the small-body fast path.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"
#include "http/test_client.h"

namespace fa::h2 {
namespace {

using fa::testing::connect_to;
using fa::testing::send_all;
using fa::testing::ServerThread;
using http::BodyEvent;

// What the server side saw, read by the test thread.
struct Seen {
  std::atomic<int> error_status{-1};  // the status of a read's kError
  std::atomic<int> chunks{0};
  std::atomic<size_t> bytes{0};
  std::atomic<size_t> largest_chunk{0};
  std::atomic<int> streamed{-1};  // Request::body_streamed of the last request
  std::atomic<int> first_read_at_bytes{-1};
};
Seen g_seen;

void reset_seen() {
  g_seen.error_status = -1;
  g_seen.chunks = 0;
  g_seen.bytes = 0;
  g_seen.largest_chunk = 0;
  g_seen.streamed = -1;
  g_seen.first_read_at_bytes = -1;
}

// Reads the whole body through read_body, then answers "n=<bytes> sum=<byte sum>".
struct Reader : std::enable_shared_from_this<Reader> {
  http::ResponseHandle handle;
  size_t n = 0;
  uint64_t sum = 0;
  void next() {
    auto self = shared_from_this();
    bool ok = handle.read_body([self](BodyEvent ev, std::string_view chunk, int status) {
      if (ev == BodyEvent::kData) {
        ++g_seen.chunks;
        g_seen.bytes += chunk.size();
        if (chunk.size() > g_seen.largest_chunk) g_seen.largest_chunk = chunk.size();
        self->n += chunk.size();
        for (unsigned char c : chunk) self->sum += c;
        self->next();
      } else if (ev == BodyEvent::kEnd) {
        self->handle.send({200, "text/plain", {}},
                          "n=" + std::to_string(self->n) + " sum=" + std::to_string(self->sum));
      } else {
        g_seen.error_status = status;
      }
    });
    EXPECT_TRUE(ok);
  }
};

// /hold keeps its handle here until the test asks it to read (run_on_loop).
std::shared_ptr<Reader> g_held;

void routes(http::Server& s) {
  s.route_streaming("POST", "/upload", [](http::Request& req, http::Response& res) {
    g_seen.streamed = req.body_streamed;
    if (!req.body_streamed) {
      uint64_t sum = 0;
      for (unsigned char c : req.body) sum += c;
      res.text("n=" + std::to_string(req.body.size()) + " sum=" + std::to_string(sum));
      return;
    }
    auto r = std::make_shared<Reader>();
    r->handle = res.detach();
    r->next();
  });
  s.route_streaming("POST", "/hold", [](http::Request& req, http::Response& res) {
    g_seen.streamed = req.body_streamed;
    g_held = std::make_shared<Reader>();
    g_held->handle = res.detach();
  });
  // Answers after the first chunk, leaving the rest of the body unread.
  s.route_streaming("POST", "/first", [](http::Request&, http::Response& res) {
    auto h = std::make_shared<http::ResponseHandle>(res.detach());
    h->read_body([h](BodyEvent ev, std::string_view chunk, int) {
      if (ev != BodyEvent::kData) return;
      h->send({200, "text/plain", {}}, "first=" + std::to_string(chunk.size()));
      // Nothing more to read for this exchange: a read now ends at once.
      bool again = h->read_body([](BodyEvent ev2, std::string_view, int st) {
        g_seen.error_status = ev2 == BodyEvent::kError ? st : 1000;
      });
      if (!again) g_seen.error_status = 2000;
    });
  });
  s.route("GET", "/", [](http::Request&, http::Response& res) { res.text("root"); });
}

std::string pattern_body(size_t n) {
  std::string b(n, '\0');
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<char>('a' + i % 26);
  return b;
}

uint64_t byte_sum(std::string_view s) {
  uint64_t sum = 0;
  for (unsigned char c : s) sum += c;
  return sum;
}

nghttp2_nv nv(std::string_view n, std::string_view v) {
  return nghttp2_nv{(uint8_t*)n.data(), (uint8_t*)v.data(), n.size(), v.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

// A blocking HTTP/2 client on nghttp2's client session. An upload's bytes are offered as the
// test makes them `available`; the session sends them as the server's windows allow.
struct Client {
  struct Upload {
    std::string data;
    size_t available = 0;  // bytes the test has released
    size_t sent = 0;
    bool end = false;       // END_STREAM once everything available went
    bool trailers = false;  // ...on a trailers HEADERS frame instead of the last DATA
  };
  nghttp2_session* session = nullptr;
  int fd = -1;
  std::map<int32_t, std::vector<std::string>> statuses;
  std::map<int32_t, std::string> bodies;
  std::map<int32_t, uint32_t> closed;  // stream -> error code
  std::map<int32_t, Upload> uploads;
  int window_updates = 0;  // WINDOW_UPDATE frames on request streams

  explicit Client(uint16_t port) {
    fd = connect_to(port);
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                const uint8_t* v, size_t vl, uint8_t, void* u) {
          if (std::string_view(reinterpret_cast<const char*>(n), nl) == ":status")
            static_cast<Client*>(u)->statuses[f->hd.stream_id].emplace_back(
                reinterpret_cast<const char*>(v), vl);
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) {
          if (f->hd.type == NGHTTP2_WINDOW_UPDATE && f->hd.stream_id != 0)
            ++static_cast<Client*>(u)->window_updates;
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t n, void* u) {
          static_cast<Client*>(u)->bodies[id].append(reinterpret_cast<const char*>(d), n);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cbs, [](nghttp2_session*, int32_t id, uint32_t code, void* u) {
          static_cast<Client*>(u)->closed[id] = code;
          return 0;
        });
    nghttp2_session_client_new(&session, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Client() {
    nghttp2_session_del(session);
    ::close(fd);
  }

  static ssize_t read_upload(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length,
                             uint32_t* flags, nghttp2_data_source*, void* u) {
    auto* c = static_cast<Client*>(u);
    Upload& up = c->uploads[id];
    size_t n = std::min(length, up.available - up.sent);
    std::memcpy(buf, up.data.data() + up.sent, n);
    up.sent += n;
    if (up.sent == up.available) {
      if (!up.end) return n > 0 ? static_cast<ssize_t>(n) : ssize_t{NGHTTP2_ERR_DEFERRED};
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (up.trailers) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_nv t[] = {nv("x-checksum", "done")};
        nghttp2_submit_trailer(session, id, t, 1);
      }
    }
    return static_cast<ssize_t>(n);
  }

  // POST `path` with `body`, the first `available` bytes released now.
  int32_t post(std::string_view path, std::string body, size_t available, bool end,
               std::vector<nghttp2_nv> extra = {}) {
    std::vector<nghttp2_nv> nva = {nv(":method", "POST"), nv(":scheme", "http"),
                                   nv(":authority", "localhost"), nv(":path", path)};
    nva.insert(nva.end(), extra.begin(), extra.end());
    nghttp2_data_provider dp{};
    dp.read_callback = read_upload;
    int32_t id = nghttp2_submit_request(session, nullptr, nva.data(), nva.size(), &dp, nullptr);
    Upload& up = uploads[id];
    up.data = std::move(body);
    up.available = available;
    up.end = end;
    return id;
  }

  // Releases more of stream `id`'s upload (all of it with `end`).
  void release(int32_t id, size_t available, bool end) {
    Upload& up = uploads[id];
    up.available = available;
    up.end = end;
    nghttp2_session_resume_data(session, id);
  }

  int32_t get(std::string_view path) {
    nghttp2_nv nva[] = {nv(":method", "GET"), nv(":scheme", "http"),
                        nv(":authority", "localhost"), nv(":path", path)};
    return nghttp2_submit_request(session, nullptr, nva, std::size(nva), nullptr, nullptr);
  }

  // Exchanges frames until `done()` or `limit` passes; false on timeout or a closed socket.
  template <class Done>
  bool run(Done done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      // One write for all pending frames (HEADERS and the DATA after them), as clients do.
      std::string wire;
      const uint8_t* out = nullptr;
      for (ssize_t n; (n = nghttp2_session_mem_send(session, &out)) > 0;)
        wire.append(reinterpret_cast<const char*>(out), size_t(n));
      if (!wire.empty()) send_all(fd, wire);
      if (done()) break;
      pollfd p{fd, POLLIN, 0};
      if (std::chrono::steady_clock::now() > deadline || ::poll(&p, 1, 20) < 0) return false;
      if (!(p.revents & POLLIN)) continue;
      char buf[65536];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      if (nghttp2_session_mem_recv(session, reinterpret_cast<uint8_t*>(buf), size_t(n)) < 0)
        return false;
    }
    return true;
  }
  // Exchanges frames for `ms` (nothing to wait for: the server should stay quiet).
  void settle(int ms) {
    run([] { return false; }, std::chrono::milliseconds(ms));
  }
};

constexpr size_t kMiB = 1024 * 1024;

TEST(H2BodyStream, BodyInManyDataFramesIsReadAsItArrives) {
  reset_seen();
  ServerThread st(routes);
  Client c(st.port());
  std::string body = pattern_body(3 * kMiB + 123);
  std::string want = "n=" + std::to_string(body.size()) + " sum=" + std::to_string(byte_sum(body));
  // No content-length: the handler cannot know the size, and the body streams.
  int32_t sid = c.post("/upload", body, body.size(), true);
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) > 0; }));
  EXPECT_EQ(c.statuses[sid], std::vector<std::string>{"200"});
  EXPECT_EQ(c.bodies[sid], want);
  EXPECT_EQ(g_seen.streamed.load(), 1);
  EXPECT_GT(g_seen.chunks.load(), 3);
  // The server never held more than the stream's window (1 MiB) of unread body.
  EXPECT_LE(g_seen.largest_chunk.load(), kMiB);
  // The connection goes on.
  int32_t again = c.get("/");
  ASSERT_TRUE(c.run([&] { return c.closed.count(again) > 0; }));
  EXPECT_EQ(c.bodies[again], "root");
}

TEST(H2BodyStream, WindowStaysShutUntilTheHandlerReads) {
  reset_seen();
  ServerThread st(routes);
  Client c(st.port());
  std::string body = pattern_body(3 * kMiB);
  int32_t sid = c.post("/hold", body, body.size(), true);
  // The handler runs (the body is still coming) but does not read: the client sends one
  // stream window (SETTINGS_INITIAL_WINDOW_SIZE, 1 MiB) and then must wait.
  ASSERT_TRUE(c.run([&] { return g_seen.streamed.load() == 1; }));
  c.settle(300);
  EXPECT_EQ(c.uploads[sid].sent, kMiB);
  EXPECT_EQ(nghttp2_session_get_stream_remote_window_size(c.session, sid), 0);
  EXPECT_EQ(c.window_updates, 0);
  EXPECT_EQ(c.closed.count(sid), 0u);
  // Reading gives the window back (WINDOW_UPDATE, RFC 9113 §6.9): the rest flows.
  st.run_on_loop([] { g_held->next(); });
  std::string want = "n=" + std::to_string(body.size()) + " sum=" + std::to_string(byte_sum(body));
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) > 0; }));
  EXPECT_EQ(c.bodies[sid], want);
  EXPECT_GT(c.window_updates, 0);
  EXPECT_LE(g_seen.largest_chunk.load(), kMiB);
  st.run_on_loop([] { g_held.reset(); });
}

TEST(H2BodyStream, ConnectionWindowIsOpenedPastTheDefault) {
  ServerThread st(routes);
  Client c(st.port());
  // RFC 9113 §6.9.2: 65,535 until the server's WINDOW_UPDATE on stream 0; each stream's own
  // window (1 MiB) is what bounds the buffering.
  ASSERT_TRUE(c.run([&] { return nghttp2_session_get_remote_window_size(c.session) > 65535; }));
  EXPECT_EQ(nghttp2_session_get_remote_window_size(c.session), 16 * 1024 * 1024);
}

TEST(H2BodyStream, TrailersEndTheBody) {
  reset_seen();
  ServerThread st(routes);
  Client c(st.port());
  std::string body = pattern_body(200 * 1024);
  int32_t sid = c.post("/upload", body, 100 * 1024, false);
  ASSERT_TRUE(c.run([&] { return g_seen.bytes.load() >= 100 * 1024; }));
  c.uploads[sid].trailers = true;
  c.release(sid, body.size(), true);
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) > 0; }));
  EXPECT_EQ(c.bodies[sid],
            "n=" + std::to_string(body.size()) + " sum=" + std::to_string(byte_sum(body)));
  EXPECT_EQ(g_seen.streamed.load(), 1);
}

TEST(H2BodyStream, ClientResetMidBodyFailsThePendingRead) {
  reset_seen();
  ServerThread st(routes);
  Client c(st.port());
  std::string body = pattern_body(kMiB);
  int32_t sid = c.post("/upload", body, 100 * 1024, false);
  // The handler has read what came and waits for more.
  ASSERT_TRUE(c.run([&] { return g_seen.bytes.load() == 100 * 1024; }));
  c.settle(50);
  EXPECT_EQ(g_seen.error_status.load(), -1);
  nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
  ASSERT_TRUE(c.run([&] { return g_seen.error_status.load() != -1; }));
  EXPECT_EQ(g_seen.error_status.load(), 0);  // the client left
  size_t in_flight = 1;
  st.run_on_loop([&] { in_flight = st.server().in_flight(); });
  EXPECT_EQ(in_flight, 0u);
  int32_t again = c.get("/");  // the other streams go on
  ASSERT_TRUE(c.run([&] { return c.closed.count(again) > 0; }));
  EXPECT_EQ(c.bodies[again], "root");
}

TEST(H2BodyStream, OversizeBodyIsAnswered413AndTheRestRefused) {
  reset_seen();
  http::ServerConfig cfg;
  cfg.limits.max_body_bytes = 256 * 1024;
  ServerThread st(routes, cfg);
  Client c(st.port());
  std::string body = pattern_body(16 * kMiB);
  int32_t sid = c.post("/upload", body, body.size(), true);
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) > 0; }));
  EXPECT_EQ(c.statuses[sid], std::vector<std::string>{"413"});
  EXPECT_EQ(g_seen.error_status.load(), 413);  // the pending read was told
  // RFC 9113 §8.1: the complete response, then RST_STREAM NO_ERROR stops the upload.
  EXPECT_EQ(c.closed[sid], static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_LT(c.uploads[sid].sent, body.size());
  int32_t again = c.get("/");
  ASSERT_TRUE(c.run([&] { return c.closed.count(again) > 0; }));
  EXPECT_EQ(c.bodies[again], "root");
}

TEST(H2BodyStream, DeclaredOversizeIsAnsweredBeforeTheBody) {
  reset_seen();
  http::ServerConfig cfg;
  cfg.limits.max_body_bytes = 256 * 1024;
  ServerThread st(routes, cfg);
  Client c(st.port());
  int32_t sid = c.post("/upload", pattern_body(kMiB), 0, false, {nv("content-length", "1048576")});
  ASSERT_TRUE(c.run([&] { return !c.statuses[sid].empty(); }));
  EXPECT_EQ(c.statuses[sid], std::vector<std::string>{"413"});
  EXPECT_EQ(c.uploads[sid].sent, 0u);
  EXPECT_EQ(g_seen.streamed.load(), -1);  // the handler never ran
}

TEST(H2BodyStream, StalledBodyIsAnswered408) {
  reset_seen();
  http::ServerConfig cfg;
  cfg.body_timeout = std::chrono::milliseconds(200);
  ServerThread st(routes, cfg);
  Client c(st.port());
  int32_t sid = c.post("/upload", pattern_body(kMiB), 100 * 1024, false);
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) > 0; }));
  EXPECT_EQ(c.statuses[sid], std::vector<std::string>{"408"});
  EXPECT_EQ(g_seen.error_status.load(), 408);
  EXPECT_EQ(c.closed[sid], static_cast<uint32_t>(NGHTTP2_NO_ERROR));
}

TEST(H2BodyStream, AnswerBeforeTheEndStopsTheUpload) {
  reset_seen();
  ServerThread st(routes);
  Client c(st.port());
  std::string body = pattern_body(4 * kMiB);
  int32_t sid = c.post("/first", body, 100 * 1024, false);
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) > 0; }));
  EXPECT_EQ(c.bodies[sid].rfind("first=", 0), 0u) << c.bodies[sid];
  EXPECT_LT(c.uploads[sid].sent, body.size());
  EXPECT_EQ(c.closed[sid], static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_EQ(g_seen.error_status.load(), 0);  // a read after the answer ends at once
  int32_t again = c.get("/");
  ASSERT_TRUE(c.run([&] { return c.closed.count(again) > 0; }));
  EXPECT_EQ(c.bodies[again], "root");
}

TEST(H2BodyStream, SmallCompleteBodyIsHandedOverWhole) {
  reset_seen();
  ServerThread st(routes);
  Client c(st.port());
  int32_t sid = c.post("/upload", "hello", 5, true, {nv("content-length", "5")});
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) > 0; }));
  EXPECT_EQ(c.bodies[sid], "n=5 sum=" + std::to_string(byte_sum("hello")));
  EXPECT_EQ(g_seen.streamed.load(), 0);
  // No content-length either: complete in the HEADERS' batch of frames, so whole as well.
  reset_seen();
  int32_t sid2 = c.post("/upload", "abc", 3, true);
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid2) > 0; }));
  EXPECT_EQ(c.bodies[sid2], "n=3 sum=" + std::to_string(byte_sum("abc")));
  EXPECT_EQ(g_seen.streamed.load(), 0);
}

TEST(H2BodyStream, ExpectContinueGets100) {
  reset_seen();
  ServerThread st(routes);
  Client c(st.port());
  std::string body = pattern_body(300 * 1024);
  int32_t sid = c.post("/upload", body, 0, false, {nv("expect", "100-continue")});
  ASSERT_TRUE(c.run([&] { return !c.statuses[sid].empty(); }));
  EXPECT_EQ(c.statuses[sid], std::vector<std::string>{"100"});
  c.release(sid, body.size(), true);
  ASSERT_TRUE(c.run([&] { return c.closed.count(sid) > 0; }));
  EXPECT_EQ(c.statuses[sid], (std::vector<std::string>{"100", "200"}));
  EXPECT_EQ(c.bodies[sid],
            "n=" + std::to_string(body.size()) + " sum=" + std::to_string(byte_sum(body)));
}

}  // namespace
}  // namespace fa::h2
