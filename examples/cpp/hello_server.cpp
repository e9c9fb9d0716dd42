// hello_server: the C++ engine serving without Python.
//   GET /               → {"message":"Hello, World!"}
//   GET /users/{id:int} → {"id":<id>,"name":"John Doe"}
//   POST /echo          → the request body back with its Content-Type
//   GET /stream         → a chunked response in several parts
//   GET /events         → Server-Sent Events: `tick` events 100 ms apart (resumes after a
//                         Last-Event-ID), then the end; --compress turns on zstd/br/gzip
//   GET /ws             → WebSocket echo: each text or binary message sent back as it came
// Usage: hello_server [--host H] [--port N] [--reuse-port] [--compress] [--loop epoll|uring|auto]
//          [--ssl-certfile F [--ssl-keyfile F] [--ssl-keyfile-password P]]...
//          [--ssl-ca-certs F] [--ssl-cert-reqs 0|1|2] [--ssl-handshake-timeout S]
//   TLS when --ssl-certfile is given (repeat it, each with its key, for SNI: the first is the
//   default); SIGHUP re-reads the certificates. --loop picks the event loop's backend (default:
//   FASTERAPI_LOOP, else epoll); uring falls back to epoll with a logged line when refused.
#include <sys/signalfd.h>
#include <unistd.h>
#include <charconv>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/event_loop.h"
#include "core/run_until_signal.h"
#include "http/server.h"
#include "sse/event_stream.h"

namespace {
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
// SIGHUP → Server::reload_tls() on the loop (a signalfd, so no work in a signal handler).
class ReloadOnSighup final : public fa::IoHandler {
 public:
  ReloadOnSighup(fa::EventLoop& loop, fa::http::Server& server) : loop_(loop), server_(server) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ >= 0) loop_.add(fd_, EPOLLIN, this);
  }
  ~ReloadOnSighup() override {
    if (fd_ >= 0) {
      loop_.remove(fd_);
      ::close(fd_);
    }
  }
  void on_io(uint32_t) override {
    signalfd_siginfo info;
    while (::read(fd_, &info, sizeof info) == sizeof info) {
      std::string err = server_.reload_tls();
      std::printf("hello_server: TLS reload %s\n", err.empty() ? "ok" : err.c_str());
      std::fflush(stdout);
    }
  }

 private:
  fa::EventLoop& loop_;
  fa::http::Server& server_;
  int fd_ = -1;
};
}  // namespace

int main(int argc, char** argv) {
  fa::http::ServerConfig cfg;
  fa::LoopBackend backend = fa::default_loop_backend();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--host" && i + 1 < argc) {
      cfg.host = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      cfg.port = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else if (a == "--reuse-port") {
      cfg.reuse_port = true;
    } else if (a == "--loop" && i + 1 < argc && fa::parse_loop_backend(argv[i + 1], &backend)) {
      ++i;
    } else if (a == "--compress") {
      cfg.compression.codings = fa::compress::CodingSet::all();
    } else if (a == "--ssl-certfile" && i + 1 < argc) {
      cfg.tls.certificates.emplace_back().certfile = argv[++i];
    } else if (a == "--ssl-keyfile" && i + 1 < argc && !cfg.tls.certificates.empty()) {
      cfg.tls.certificates.back().keyfile = argv[++i];
    } else if (a == "--ssl-keyfile-password" && i + 1 < argc && !cfg.tls.certificates.empty()) {
      cfg.tls.certificates.back().password = argv[++i];
    } else if (a == "--ssl-ca-certs" && i + 1 < argc) {
      cfg.tls.ca_certs = argv[++i];
    } else if (a == "--ssl-cert-reqs" && i + 1 < argc) {
      cfg.tls.cert_reqs = static_cast<fa::tls::CertReqs>(std::atoi(argv[++i]));
    } else if (a == "--ssl-handshake-timeout" && i + 1 < argc) {
      cfg.tls.handshake_timeout =
          std::chrono::milliseconds(static_cast<long>(std::atof(argv[++i]) * 1000));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--host H] [--port N] [--reuse-port] [--compress] "
                   "[--loop epoll|uring|auto] [--ssl-certfile F "
                   "[--ssl-keyfile F] [--ssl-keyfile-password P]]... [--ssl-ca-certs F] "
                   "[--ssl-cert-reqs 0|1|2] [--ssl-handshake-timeout S]\n",
                   argv[0]);
      return 2;
    }
  }

  fa::EventLoop loop(backend);
  fa::http::Server server(loop, cfg);
  using fa::http::Request;
  using fa::http::Response;

  server.route("GET", "/",
               [](Request&, Response& res) { res.json(R"({"message":"Hello, World!"})"); });
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

  uint16_t port = 0;
  try {
    port = server.listen();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hello_server: %s\n", e.what());
    return 1;
  }
  ReloadOnSighup reload(loop, server);
  std::printf("hello_server listening on %s:%u%s (%s)\n", cfg.host.c_str(), port,
              server.tls() ? " (TLS)" : "", fa::loop_backend_name(loop.backend()));
  std::fflush(stdout);
  fa::run_until_signal(loop);
  return 0;
}
