// libFuzzer target over the HTTP/2 glue (src/h2): arbitrary frames after the client preface go
// into a real Connection (one end of a socketpair) whose H1Protocol hands over to H2Protocol;
// handlers answer whole, streamed and deferred, and push (PUSH_PROMISE), and a WebSocket echo
// takes extended CONNECTs (RFC 8441); a streaming route reads request bodies as they arrive
// (its stream window reopened as it reads); responses are drained from the other end.
// With the first byte's top bit set, the connection starts as an h2c Upgrade request (RFC 7540
// §3.2) whose HTTP2-Settings value is the input's first line, then the preface and frames.
// Invariants: no crash, no sanitizer report, and the server's exchange count returns to zero.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <memory>
#include <string_view>

#include "core/event_loop.h"
#include "core/log.h"
#include "h2/preface.h"
#include "http/connection.h"
#include "http/h1_protocol.h"
#include "http/server.h"
#include "ws/ws_server.h"

using namespace fa;
using namespace fa::http;

namespace {

// Reads a streamed request body to its end, then answers with its size (h2/body_stream.cpp);
// a reset or a closed connection ends the read with an error instead.
struct UploadReader : std::enable_shared_from_this<UploadReader> {
  ResponseHandle handle;
  size_t n = 0;
  void next() {
    handle.read_body([self = shared_from_this()](BodyEvent ev, std::string_view chunk, int) {
      if (ev == BodyEvent::kData) {
        self->n += chunk.size();
        self->next();
      } else if (ev == BodyEvent::kEnd) {
        self->handle.send(ResponseHead{200, "text/plain", {}}, std::to_string(self->n));
      }
    });
  }
};

struct Harness {
  EventLoop loop;
  Server server{loop, ServerConfig{}};
  Harness() {
    server.route("GET", "/", [](Request&, Response& res) { res.text("hello"); });
    server.route("POST", "/echo", [](Request& req, Response& res) {
      res.send(200, "application/octet-stream", req.body);
    });
    server.route("GET", "/stream", [](Request&, Response& res) {
      res.start(ResponseHead{200, "text/plain", {}});
      for (int i = 0; i < 8; ++i) res.write("chunk of a streamed response\n");
      res.end();
    });
    server.route("GET", "/deferred", [this](Request&, Response& res) {
      ResponseHandle h = res.detach();
      loop.defer([h] { h.send(ResponseHead{200, "text/plain", {}}, "later"); });
    });
    server.route("GET", "/push", [this](Request&, Response& res) {
      // Server push (RFC 9113 §8.4): promised streams dispatched on the loop's next turn,
      // refused when the input's SETTINGS disabled push; one more from a deferred answer.
      res.push("/");
      res.push("/stream");
      ResponseHandle h = res.detach();
      loop.defer([h] {
        h.push("/deferred");
        h.send(ResponseHead{200, "text/plain", {}}, "pushed");
      });
    });
    server.websocket("/ws", [](Request&, ws::Upgrade up) {
      ws::Callbacks cb;
      cb.on_message = [](ws::Socket& s, std::string_view d, bool binary) {
        binary ? s.send_binary(d) : s.send_text(d);
      };
      up.accept({}, std::move(cb));
    });
    server.route_streaming("POST", "/upload", [](Request& req, Response& res) {
      if (!req.body_streamed) {
        res.text(std::to_string(req.body.size()));
        return;
      }
      auto r = std::make_shared<UploadReader>();
      r->handle = res.detach();
      r->next();
    });
    server.route("GET", "/throws", [](Request&, Response&) -> void { throw std::runtime_error("x"); });
  }
};

void drain(int fd) {
  char buf[65536];
  while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* h = [] {
    log_level() = LogLevel::kOff;  // /throws logs on every run
    return new Harness();
  }();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  sockaddr_storage peer{};
  auto conn = std::make_shared<Connection>(h->server, fds[0], peer);
  conn->start(std::make_unique<H1Protocol>(h->server));

  // The first input byte picks the chunk size, so frames are also split across reads.
  size_t chunk = size ? 1 + data[0] % 64 : 1;
  std::string_view rest = size ? std::string_view(reinterpret_cast<const char*>(data + 1), size - 1)
                               : std::string_view();
  std::string input;
  if (size && (data[0] & 0x80)) {
    size_t eol = rest.find('\n');
    std::string_view settings = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    input.append("GET /stream HTTP/1.1\r\nHost: fuzz\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                 "Upgrade: h2c\r\nHTTP2-Settings: ")
        .append(settings)
        .append("\r\n\r\n");
  }
  input.append(h2::kClientPreface);
  input.append(rest);
  for (size_t off = 0; off < input.size() && !conn->closed(); off += chunk) {
    size_t n = std::min(chunk, input.size() - off);
    char* dst = conn->input().prepare(n);
    std::memcpy(dst, input.data() + off, n);
    conn->input().commit(n);
    if (!conn->closing()) conn->protocol()->on_data(*conn);
    conn->flush();
    drain(fds[1]);
    h->loop.run_once(0);  // deferred answers and callbacks
    conn->flush();
    drain(fds[1]);
  }
  if (!conn->closed()) conn->close_now();
  h->loop.run_once(0);
  ::close(fds[1]);
  if (h->server.in_flight() != 0) std::abort();  // an exchange was never finished
  return 0;
}
