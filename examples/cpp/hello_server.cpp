// hello_server: the C++ engine serving without Python.
//   GET /               → {"message":"Hello, World!"}
//   GET /users/{id:int} → {"id":<id>,"name":"John Doe"}
//   POST /echo          → the request body back with its Content-Type
//   GET /stream         → a chunked response in several parts
//   GET /events         → Server-Sent Events: `tick` events 100 ms apart (resumes after a
//                         Last-Event-ID), then the end; --compress turns on zstd/br/gzip
//   GET /ws             → WebSocket echo: each text or binary message sent back as it came
// Usage: hello_server [--host H] [--port N] [--reuse-port] [--compress]
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/event_loop.h"
#include "http/server.h"
#include "sse/event_stream.h"

namespace {
fa::EventLoop* g_loop = nullptr;
void on_signal(int) {
  if (g_loop) g_loop->stop();
}

// Sends tick events `next`..9, one every 100 ms on the loop's timers, then ends the stream.
void send_ticks(fa::EventLoop& loop, std::shared_ptr<fa::sse::EventStream> s, int next) {
  if (!s->alive()) return;  // the client left
  if (next >= 10) {
    s->close();
    return;
  }
  std::string n = std::to_string(next);
  s->send({.data = "tick " + n, .event = "tick", .id = n});
  loop.call_later(std::chrono::milliseconds(100),
                  [&loop, s, next] { send_ticks(loop, s, next + 1); });
}
}  // namespace

int main(int argc, char** argv) {
  fa::http::ServerConfig cfg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--host" && i + 1 < argc) {
      cfg.host = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      cfg.port = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else if (a == "--reuse-port") {
      cfg.reuse_port = true;
    } else if (a == "--compress") {
      cfg.compression.codings = fa::compress::CodingSet::all();
    } else {
      std::fprintf(stderr, "usage: %s [--host H] [--port N] [--reuse-port] [--compress]\n", argv[0]);
      return 2;
    }
  }

  fa::EventLoop loop;
  fa::http::Server server(loop, cfg);
  using fa::http::Request;
  using fa::http::Response;

  server.route("GET", "/", [](Request&, Response& res) {
    res.json(R"({"message":"Hello, World!"})");
  });
  server.route("GET", "/users/{id:int}", [](Request& req, Response& res) {
    std::string body = R"({"id":)";
    body.append(req.param("id")).append(R"(,"name":"John Doe"})");
    res.json(body);
  });
  server.route("POST", "/echo", [](Request& req, Response& res) {
    std::string_view ct = req.header("content-type");
    res.send(200, ct.empty() ? "application/octet-stream" : ct, req.body);
  });
  server.route("GET", "/stream", [](Request&, Response& res) {
    res.start({200, "text/plain; charset=utf-8", {}});
    for (int i = 0; i < 5; ++i) res.write("part " + std::to_string(i) + "\n");
    res.end();
  });
  server.route("GET", "/events", [&loop](Request& req, Response& res) {
    int next = 0;
    std::string_view last = req.header("last-event-id");  // a reconnecting EventSource
    if (std::from_chars(last.data(), last.data() + last.size(), next).ec == std::errc()) ++next;
    auto stream = fa::sse::EventStream::open(res, loop);
    if (stream) send_ticks(loop, stream, next);
  });

  server.websocket("/ws", [](Request&, fa::ws::Upgrade upgrade) {
    fa::ws::Callbacks cb;
    cb.on_message = [](fa::ws::Socket& ws, std::string_view data, bool binary) {
      binary ? ws.send_binary(data) : ws.send_text(data);
    };
    upgrade.accept({}, std::move(cb));
  });

  uint16_t port = server.listen();
  std::printf("hello_server listening on %s:%u\n", cfg.host.c_str(), port);
  std::fflush(stdout);
  g_loop = &loop;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  loop.run();
  return 0;
}
