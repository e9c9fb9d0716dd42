// fasterapi._native.Server: the HTTP engine driven from Python. The per-request path (build
// Request, call the endpoint, encode the result, write the response) is CPython C API code.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "core/py_loop.h"
#include "http/connection.h"  // Peer
#include "http/server.h"
#include "json_encode.h"
#include "py_fast_answer.h"
#include "py_request.h"
#include "py_responder.h"
#include "registry.h"
#include "compress/compression_config.h"
#include "ws/ws_connection.h"
#include "http/ascii.h"
#include "ws/handshake.h"
#include "ws/upgrade_route.h"

namespace nb = nanobind;

namespace fa::py {

// bindings/sse/event_stream_module.cpp: names → CodingSet (ValueError for unknown ones).
compress::CodingSet parse_codings(const std::vector<std::string>& names);

namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kInternalError = R"({"detail":"Internal Server Error"})";

// Owned reference holder for the C API path.
struct Ref {
  PyObject* p = nullptr;
  Ref() = default;
  explicit Ref(PyObject* o) : p(o) {}
  ~Ref() { Py_XDECREF(p); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  explicit operator bool() const { return p != nullptr; }
};

ws::Limits ws_limits(size_t max_message_bytes, double ping_interval, double pong_timeout,
                     bool permessage_deflate, int deflate_level) {
  if (deflate_level < 0 || deflate_level > 9)
    throw nb::value_error("deflate_level must be a zlib level from 0 to 9");
  auto secs = [](double s) {
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
  };
  ws::Limits limits;
  limits.max_message_bytes = limits.max_frame_bytes = max_message_bytes;
  limits.ping_interval = secs(ping_interval);
  limits.pong_timeout = secs(pong_timeout);
  limits.permessage_deflate = permessage_deflate;
  limits.deflate_level = deflate_level;
  return limits;
}

// An Upgrade header whose protocol list names websocket (RFC 9110 §7.8; the token compared
// case-insensitively, RFC 6455 §4.2.1), or an HTTP/2 extended CONNECT for websocket (RFC 8441,
// which H2Protocol routes to GET routes only with :protocol websocket). Such a request gets
// the handshake's own checks and answers (400/426); any other request is plain HTTP.
bool asks_for_websocket(const http::RequestHead& head) {
  if (ws::is_extended_connect(head)) return true;  // RFC 8441: h2 CONNECT :protocol websocket
  constexpr std::string_view kWs = "websocket";
  for (size_t i = 0; i < head.num_headers; ++i) {
    if (!http::ascii_iequals(head.headers[i].name, "upgrade")) continue;
    std::string_view v = head.headers[i].value;
    for (size_t at = 0; at + kWs.size() <= v.size(); ++at)
      if (http::ascii_iequals(v.substr(at, kWs.size()), kWs)) return true;
  }
  return false;
}

class PyServer {
 public:
  PyServer(std::string host, int port, bool reuse_port, int backlog, uint64_t max_body_bytes,
           double keep_alive_timeout, double header_timeout, double body_timeout,
           double send_timeout, const std::string& loop, PyLoop* event_loop)
      : loop_obj_(event_loop ? nb::find(event_loop)
                             : nb::cast(new PyLoop(loop_backend(loop)), nb::rv_policy::take_ownership)),
        loop_(nb::cast<PyLoop&>(loop_obj_).loop()) {
    cfg_.host = std::move(host);
    if (port < 0 || port > 65535) throw nb::value_error("port must be in 0..65535");
    cfg_.port = static_cast<uint16_t>(port);
    cfg_.reuse_port = reuse_port;
    cfg_.backlog = backlog;
    cfg_.limits.max_body_bytes = max_body_bytes;
    auto secs = [](double s) {
      return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
    };
    cfg_.keep_alive_timeout = secs(keep_alive_timeout);
    cfg_.header_timeout = secs(header_timeout);
    cfg_.body_timeout = secs(body_timeout);
    cfg_.send_timeout = secs(send_timeout);
    server_ = std::make_unique<http::Server>(loop_, cfg_);
  }

  ~PyServer() {
    server_->close();
    server_.reset();
  }

  void set_hooks(nb::handle request_class, nb::handle response_class, nb::object render,
                 nb::object spawn, nb::object handle_error, nb::object pending) {
    if (!PyType_Check(request_class.ptr()) ||
        !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(request_class.ptr()), &RequestType))
      throw nb::type_error("set_hooks: request_class must be a subclass of _native.Request");
    if (!PyType_Check(response_class.ptr()))
      throw nb::type_error("set_hooks: response_class must be a class");
    request_class_ = nb::borrow(request_class);
    response_class_ = nb::borrow(response_class);
    render_ = std::move(render);
    spawn_ = std::move(spawn);
    handle_error_ = std::move(handle_error);
    pending_ = std::move(pending);
  }

  void add_route(const std::string& method, const std::string& path, nb::object endpoint,
                 bool is_async, bool stream_body) {
    routes_.push_back(Route{std::move(endpoint), is_async});
    Route* route = &routes_.back();
    try {
      auto handler = [this, route](http::Request& req, http::Response& res) {
        dispatch(*route, req, res);
      };
      if (stream_body) {
        server_->route_streaming(method, path, std::move(handler));
      } else {
        server_->route(method, path, std::move(handler));
      }
    } catch (const http::RouteError& e) {
      routes_.pop_back();
      throw nb::value_error(e.what());
    }
  }

  // start(conn) per WebSocket upgrade on `path` (bindings/ws/ws_connection.h).
  void add_websocket(const std::string& path, nb::object start, size_t max_message_bytes,
                     double ping_interval, double pong_timeout, bool permessage_deflate,
                     int deflate_level) {
    ws::Limits limits = ws_limits(max_message_bytes, ping_interval, pong_timeout,
                                  permessage_deflate, deflate_level);
    try {
      server_->websocket(path, python_upgrade_handler(std::move(start)), limits);
    } catch (const http::RouteError& e) {
      throw nb::value_error(e.what());
    }
  }

  // One GET route for both: a request asking for a WebSocket upgrade (an Upgrade header naming
  // websocket, RFC 6455 §4.1) goes to start(conn) as with add_websocket, any other to
  // endpoint(req, res) as with add_route. An ASGI app behind one catch-all route serves HTTP and
  // WebSocket scopes on the same paths (ASGI HTTP & WebSocket spec 2.4), and FastAPI lets a GET
  // and a WebSocket route share a path.
  void add_route_and_websocket(const std::string& path, nb::object endpoint, bool is_async,
                               nb::object start, size_t max_message_bytes, double ping_interval,
                               double pong_timeout, bool permessage_deflate, int deflate_level) {
    ws::Limits limits = ws_limits(max_message_bytes, ping_interval, pong_timeout,
                                  permessage_deflate, deflate_level);
    routes_.push_back(Route{std::move(endpoint), is_async});
    Route* route = &routes_.back();
    try {
      server_->route("GET", path,
                     [this, route, limits, upgrade = python_upgrade_handler(std::move(start))](
                         http::Request& req, http::Response& res) {
                       if (asks_for_websocket(req.head))
                         ws::start_upgrade(req, res, upgrade, limits);
                       else
                         dispatch(*route, req, res);
                     });
    } catch (const http::RouteError& e) {
      routes_.pop_back();
      throw nb::value_error(e.what());
    }
  }

  // endpoint(req, res) answers requests no route matches (404, or 405 when
  // req.allowed_methods is not empty), so they pass the app's middleware and error handlers.
  void set_fallback(nb::object endpoint, bool is_async) {
    fallback_ = std::make_unique<Route>(Route{std::move(endpoint), is_async});
    Route* route = fallback_.get();
    server_->set_fallback([this, route](http::Request& req, http::Response& res) { dispatch(*route, req, res); });
  }

  // fn(host, port, status, reason, request_line) for each error the engine answers itself.
  void set_error_log(nb::object fn) {
    error_log_ = std::move(fn);
    server_->set_error_observer([this](const http::Peer& peer, int status, std::string_view reason,
                                       std::string_view line) {
      // Called on the loop inside poll(): the GIL is held, as for handlers.
      try {
        error_log_(peer.host, peer.port, status, std::string(reason), nb::bytes(line.data(), line.size()));
      } catch (nb::python_error& e) {
        e.discard_as_unraisable("fasterapi error log");
      }
    });
  }

  // Response compression (src/compress): codings offered ('zstd', 'br', 'gzip'; empty = off).
  void set_compression(const std::vector<std::string>& codings, size_t min_size, int gzip_level,
                       int brotli_quality, int zstd_level) {
    if (gzip_level < 1 || gzip_level > 9) throw nb::value_error("gzip level must be in 1..9");
    if (brotli_quality < 0 || brotli_quality > 11) throw nb::value_error("brotli quality must be in 0..11");
    if (zstd_level < 1 || zstd_level > 19) throw nb::value_error("zstd level must be in 1..19");
    compress::CompressionConfig c;
    c.codings = parse_codings(codings);
    c.min_size = min_size;
    c.gzip_level = gzip_level;
    c.brotli_quality = brotli_quality;
    c.zstd_level = zstd_level;
    server_->set_compression(c);
  }

  // TLS (src/tls) with uvicorn's ssl_* settings; the files are read by listen().
  void set_tls(const std::string& certfile, const std::string& keyfile, const std::string& password,
               const std::string& ca_certs, int cert_reqs, double handshake_timeout,
               const std::vector<std::vector<std::string>>& sni) {
    if (cert_reqs < 0 || cert_reqs > 2) throw nb::value_error("ssl_cert_reqs must be 0, 1 or 2 (ssl.CERT_*)");
    if (handshake_timeout <= 0) throw nb::value_error("handshake timeout must be positive");
    tls::TlsConfig t;
    t.certificates.push_back({certfile, keyfile, password, {}});
    // SNI: [server name, certfile, keyfile, password] each; one certificate per distinct file
    // set, chosen by any of its names.
    for (const auto& entry : sni) {
      if (entry.size() != 4) throw nb::value_error("set_tls: sni entries are [name, certfile, keyfile, password]");
      auto same = [&](const tls::Certificate& c) {
        return c.certfile == entry[1] && c.keyfile == entry[2] && c.password == entry[3] &&
               !c.server_names.empty();
      };
      auto it = std::find_if(t.certificates.begin() + 1, t.certificates.end(), same);
      if (it == t.certificates.end())
        t.certificates.push_back({entry[1], entry[2], entry[3], {entry[0]}});
      else
        it->server_names.push_back(entry[0]);
    }
    t.ca_certs = ca_certs;
    t.cert_reqs = static_cast<tls::CertReqs>(cert_reqs);
    t.handshake_timeout = std::chrono::milliseconds(static_cast<long>(handshake_timeout * 1000));
    server_->set_tls(t);
  }
  // Re-reads the certificate files; raises (keeping the old ones) when they are bad.
  void reload_tls() {
    std::string err = server_->reload_tls();
    if (!err.empty()) throw std::runtime_error(err);
  }

  int listen() {
    if (!request_class_.is_valid()) throw std::runtime_error("Server.listen: call set_hooks() first");
    return server_->listen();
  }
  int fileno() const { return loop_.fd(); }
  nb::object event_loop() const { return loop_obj_; }
  const char* loop_name() const { return loop_backend_name(loop_.backend()); }
  void poll() {
    loop_.run_once(0);
    if (PyErr_Occurred()) throw nb::python_error();
  }
  int next_timer_ms() const { return loop_.next_timer_ms(); }
  void shutdown(double grace) {
    server_->shutdown(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(grace)));
  }
  void close() { server_->close(); }
  size_t connections() const { return server_->connections(); }
  size_t writing() const { return server_->writing(); }
  bool tls() const { return server_->tls(); }
  size_t in_flight() const { return server_->in_flight(); }

 private:
  struct Route {
    nb::object endpoint;
    bool is_async;
  };

  PyObject* new_responder(http::Response& res) {
    nb::object r = nb::cast(Responder{res.detach(), false, &loop_});
    return r.release().ptr();
  }

  void dispatch(const Route& route, http::Request& req, http::Response& res);
  bool send_fast(PyObject* result, PyObject* pres, http::Response& res);
  void call_hook(PyObject* hook, PyObject* first, PyObject* preq, PyObject* pres,
                 http::Response& res, Ref& responder);
  void fail_hard(http::Response& res, const char* where);

  nb::object loop_obj_;  // a Loop (core/py_loop.h), maybe shared: it outlives server_
  EventLoop& loop_;
  http::ServerConfig cfg_;
  std::unique_ptr<http::Server> server_;
  std::deque<Route> routes_;  // stable addresses: route handlers point into it
  std::unique_ptr<Route> fallback_;
  nb::object error_log_;
  nb::object request_class_, response_class_, render_, spawn_, handle_error_, pending_;
  nb::tuple empty_args_ = nb::tuple();
  AnswerBuffers answer_buffers_;  // reused header-lines and encode buffers
};

// Sends `result` directly when the engine can (py_fast_answer.h). Returns false (nothing sent,
// no error) to fall back to render(); true when sent, or with a Python error set if encoding
// failed (the caller reports it).
bool PyServer::send_fast(PyObject* result, PyObject* pres, http::Response& res) {
  http::ResponseHead head;
  std::string_view body;
  switch (fast_answer(result, pres, answer_buffers_, head, body)) {
    case FastAnswer::kNotFast:
      return false;
    case FastAnswer::kFailed:
      return true;
    case FastAnswer::kReady:
      break;
  }
  res.send(head, body);
  return true;
}

void PyServer::fail_hard(http::Response& res, const char* where) {
  // A hook itself failed: report it and answer 500 if nothing was sent yet.
  PyErr_WriteUnraisable(nullptr);
  std::fprintf(stderr, "fasterapi: %s failed; answering 500\n", where);
  if (!res.finished() && !res.started()) res.send(500, kJson, kInternalError);
}

// Calls hook(first, req, res, responder) — render or handle_error — creating the responder
// if needed. On failure of render, hands the error to handle_error; on failure of that, 500.
void PyServer::call_hook(PyObject* hook, PyObject* first, PyObject* preq, PyObject* pres,
                         http::Response& res, Ref& responder) {
  if (!responder) responder.p = new_responder(res);
  PyObject* args[4] = {first, preq, pres, responder.p};
  Ref out(PyObject_Vectorcall(hook, args, 4, nullptr));
  if (out) return;
  if (hook == handle_error_.ptr()) {
    fail_hard(res, "handle_error");
    return;
  }
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb) PyException_SetTraceback(value, tb);
  call_hook(handle_error_.ptr(), value, preq, pres, res, responder);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
}

void PyServer::dispatch(const Route& route, http::Request& req, http::Response& res) {
  Ref preq(make_request(reinterpret_cast<PyTypeObject*>(request_class_.ptr()), req, res.detach()));
  if (!preq) return fail_hard(res, "Request creation");
  // res = response_class.__new__(response_class): __init__ is not run per request, so a fresh
  // instance must be valid from class-level defaults (set_hooks' contract).
  auto* rtype = reinterpret_cast<PyTypeObject*>(response_class_.ptr());
  Ref pres(rtype->tp_new(rtype, empty_args_.ptr(), nullptr));
  if (!pres) return fail_hard(res, "Response creation");
  Ref responder;
  PyObject* args[2] = {preq.p, pres.p};
  Ref result(PyObject_Vectorcall(route.endpoint.ptr(), args, 2, nullptr));
  if (result && route.is_async) {
    responder.p = new_responder(res);
    PyObject* sargs[4] = {result.p, preq.p, pres.p, responder.p};
    Ref final_result(PyObject_Vectorcall(spawn_.ptr(), sargs, 4, nullptr));
    std::swap(result.p, final_result.p);
  }
  if (result) {
    if (result.p == pending_.ptr()) return;  // a Task finishes it through the responder
    if (send_fast(result.p, pres.p, res) && !PyErr_Occurred()) return;
    // A value the fast encoder refuses (timedelta, int dict keys): render() retries it the
    // way FastAPI's jsonable_encoder would. Nothing was sent yet.
    if (PyErr_Occurred() && PyErr_ExceptionMatches(PyExc_TypeError)) PyErr_Clear();
    if (!PyErr_Occurred()) {
      call_hook(render_.ptr(), result.p, preq.p, pres.p, res, responder);
      return;
    }
  }
  // The endpoint (or the fast encoder) raised.
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb) PyException_SetTraceback(value, tb);
  call_hook(handle_error_.ptr(), value, preq.p, pres.p, res, responder);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
}

}  // namespace

void register_server(nb::module_& m) {
  if (!init_request_type()) throw nb::python_error();
  Py_INCREF(&RequestType);
  if (PyModule_AddObject(m.ptr(), "Request", reinterpret_cast<PyObject*>(&RequestType)) < 0)
    throw nb::python_error();
  register_responder(m);
  register_ws(m);

  nb::class_<PyServer>(m, "Server", "The HTTP/1.1 engine: listener, connections, routes.")
      .def(nb::init<std::string, int, bool, int, uint64_t, double, double, double, double,
                    const std::string&, PyLoop*>(),
           nb::arg("host"), nb::arg("port"), nb::kw_only(), nb::arg("reuse_port") = false,
           nb::arg("backlog") = 1024, nb::arg("max_body_bytes") = 16 * 1024 * 1024,
           nb::arg("keep_alive_timeout") = 5.0, nb::arg("header_timeout") = 10.0,
           nb::arg("body_timeout") = 30.0, nb::arg("send_timeout") = 30.0, nb::arg("loop") = "",
           nb::arg("event_loop").none() = nb::none(),
           "loop: the backend of a Loop of its own ('' = FASTERAPI_LOOP, else epoll); "
           "event_loop: a Loop to run on instead (shared with PostgreSQL connections: "
           "fasterapi/_loops.py), which `loop` then does not change.")
      .def("set_hooks", &PyServer::set_hooks, nb::arg("request_class"), nb::arg("response_class"),
           nb::arg("render"), nb::arg("spawn"), nb::arg("handle_error"), nb::arg("pending"),
           "Sets the Python callbacks the engine uses; call once before listen(). Per request the "
           "engine allocates request_class natively and res = response_class.__new__("
           "response_class) without calling __init__: class-level defaults must make it valid.")
      .def("add_route", &PyServer::add_route, nb::arg("method"), nb::arg("path"),
           nb::arg("endpoint"), nb::arg("is_async"), nb::arg("stream_body") = false,
           "Registers endpoint(req, res) for method and path. ValueError on a bad pattern or "
           "a conflict. stream_body: a body past 64 KiB (or chunked) is not read before the "
           "endpoint runs; it reads it with req.read_body().")
      .def("add_websocket", &PyServer::add_websocket, nb::arg("path"), nb::arg("start"),
           nb::arg("max_message_bytes") = 16 * 1024 * 1024, nb::arg("ping_interval") = 20.0,
           nb::arg("pong_timeout") = 20.0, nb::arg("permessage_deflate") = true,
           nb::arg("deflate_level") = 6,
           "Registers a WebSocket route: start(conn: WebSocketConnection) per valid upgrade "
           "request. ValueError on a bad pattern or a conflict. 0 turns pings off.")
      .def("add_route_and_websocket", &PyServer::add_route_and_websocket, nb::arg("path"),
           nb::arg("endpoint"), nb::arg("is_async"), nb::arg("start"),
           nb::arg("max_message_bytes") = 16 * 1024 * 1024, nb::arg("ping_interval") = 20.0,
           nb::arg("pong_timeout") = 20.0, nb::arg("permessage_deflate") = true,
           nb::arg("deflate_level") = 6,
           "Registers GET path for both: WebSocket upgrade requests go to start(conn) (as "
           "add_websocket), other requests to endpoint(req, res) (as add_route).")
      .def("set_fallback", &PyServer::set_fallback, nb::arg("endpoint"), nb::arg("is_async"),
           "Registers endpoint(req, res) for requests no route matches (404; 405 when "
           "req.allowed_methods is not empty) instead of the engine's own answers.")
      .def("set_error_log", &PyServer::set_error_log, nb::arg("fn"),
           "fn(host, port, status, reason, request_line: bytes) for each error the engine "
           "answers by itself (400, 408, 413, 414, 431, 501, 505) before closing.")
      .def("set_compression", &PyServer::set_compression, nb::arg("codings"), nb::kw_only(),
           nb::arg("min_size") = 500, nb::arg("gzip_level") = 6, nb::arg("brotli_quality") = 4,
           nb::arg("zstd_level") = 3,
           "Compresses responses by Accept-Encoding with `codings` (server order zstd > br > gzip "
           "at equal q; [] turns it off): bodies of at least min_size bytes with a compressible "
           "type, streams per write. ValueError for an unknown coding or level.")
      .def("set_tls", &PyServer::set_tls, nb::arg("certfile"), nb::kw_only(),
           nb::arg("keyfile") = "", nb::arg("password") = "", nb::arg("ca_certs") = "",
           nb::arg("cert_reqs") = 0, nb::arg("handshake_timeout") = 10.0,
           nb::arg("sni") = std::vector<std::vector<std::string>>(),
           "Serves TLS (before listen()): PEM certificate chain and key (empty keyfile: in "
           "certfile), key password, CA bundle and ssl.CERT_* for client certificates; sni: "
           "[server name, certfile, keyfile, password] entries chosen by the client's SNI.")
      .def("reload_tls", &PyServer::reload_tls,
           "Re-reads the TLS certificates (SIGHUP): new connections use them, open ones keep "
           "theirs. RuntimeError with OpenSSL's reason when they are bad (the old ones stay).")
      .def_prop_ro("tls", [](const PyServer& s) { return s.tls(); })
      .def("listen", &PyServer::listen, "Binds and listens; returns the bound port.")
      .def("fileno", &PyServer::fileno, "An fd that is readable when poll() has work.")
      .def_prop_ro("event_loop", &PyServer::event_loop, "The Loop it runs on.")
      .def_prop_ro("loop", &PyServer::loop_name,
                   "The event loop's backend in use: 'epoll' or 'uring'.")
      .def("poll", &PyServer::poll, "Runs ready I/O and due timers without blocking.")
      .def("next_timer_ms", &PyServer::next_timer_ms, "Milliseconds until the next timer, or -1.")
      .def("shutdown", &PyServer::shutdown, nb::arg("grace") = 3600.0,
           "Stops accepting and closes idle connections; in-flight requests finish; whatever is "
           "still open after `grace` seconds is closed.")
      .def("close", &PyServer::close, "Closes the listener and all connections now.")
      .def_prop_ro("connections", &PyServer::connections)
      .def_prop_ro("writing", &PyServer::writing,
                   "Connections with output not yet handed to the kernel (the drain waits).")
      .def_prop_ro("in_flight", &PyServer::in_flight);
}

}  // namespace fa::py
