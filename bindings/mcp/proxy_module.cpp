// fasterapi._native.McpProxy: the MCP proxy core (src/mcp/proxy) with its upstreams and its
// front transports, on its own EventLoop (driven from asyncio like McpServer). A forwarded
// call runs entirely here: transport -> ProxyCore -> upstream -> back, no Python.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "http/connection.h"
#include "http/server.h"
#include "mcp/client/http_upstream.h"
#include "mcp/client/stdio_upstream.h"
#include "mcp/http_transport.h"
#include "mcp/proxy/proxy_core.h"
#include "mcp/stdio_transport.h"
#include "http_options.h"
#include "sink_responder.h"

namespace nb = nanobind;
namespace cl = fa::mcp::client;
namespace px = fa::mcp::proxy;

namespace fa::py {

namespace {

void call_quietly(const nb::object& fn) {
  if (!fn.is_valid() || fn.is_none()) return;
  PyObject* r = PyObject_CallNoArgs(fn.ptr());
  if (!r) PyErr_WriteUnraisable(fn.ptr());
  Py_XDECREF(r);
}

// The answer to a client over its rate limit (RFC 6585 §4: 429 with Retry-After in seconds).
std::string too_many(Duration wait, std::string& headers) {
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait).count();
  int64_t secs = std::max<int64_t>(1, (ms + 999) / 1000);
  headers = "Retry-After: " + std::to_string(secs) + "\r\n";
  std::string body;
  mcp::encode_error(body, {}, px::kRateLimited,
                    "Rate limit exceeded; retry in " + std::to_string(ms) + " ms",
                    R"({"retryAfterMs":)" + std::to_string(ms) + "}");
  return body;
}

class McpProxy {
 public:
  McpProxy(std::string name, std::string version, int failure_threshold, double cooldown_s,
           int half_open_probes, double rate, double burst)
      : core_(loop_, mcp::ServerInfo{std::move(name), std::move(version), {}, {}}, [&] {
          px::ProxyOptions o;
          o.breaker.failure_threshold = std::max(1, failure_threshold);
          o.breaker.cooldown =
              std::chrono::duration_cast<Duration>(std::chrono::duration<double>(cooldown_s));
          o.breaker.half_open_probes = std::max(1, half_open_probes);
          o.rate_limit.rate = rate;
          o.rate_limit.burst = burst;
          return o;
        }()) {}
  ~McpProxy() { close(); }

  void add_http(const std::string& name, const std::string& url, const std::string& headers,
                double timeout_s, size_t max_connections, bool probe_modern, bool verify,
                std::string cafile) {
    cl::HttpUrl parsed;
    if (!cl::parse_http_url(url, parsed))
      throw nb::value_error(
          ("upstream '" + name + "': not an http:// or https:// URL: " + url).c_str());
    if (headers.find('\n') != std::string::npos && !headers.ends_with("\r\n"))
      throw nb::value_error("headers must be 'Name: value\\r\\n' lines");
    cl::UpstreamOptions opts = options(timeout_s, probe_modern);
    cl::HttpUpstreamOptions http;
    http.headers = headers;
    http.max_connections = max_connections;
    http.tls_verify = verify;
    http.tls_cafile = std::move(cafile);
    EventLoop* loop = &loop_;
    core_.add_upstream(name, [loop, parsed, opts, http] {
      return cl::HttpUpstream::create(*loop, parsed, opts, http);
    });
  }

  void add_stdio(const std::string& name, std::vector<std::string> argv, double timeout_s,
                 bool probe_modern) {
    if (argv.empty()) throw nb::value_error(("upstream '" + name + "': empty command").c_str());
    cl::UpstreamOptions opts = options(timeout_s, probe_modern);
    EventLoop* loop = &loop_;
    core_.add_upstream(name,
                       [loop, argv, opts] { return cl::StdioUpstream::create(*loop, argv, opts); });
  }

  // Starts the upstreams; on_ready() runs once every one has started or failed.
  void start(nb::object on_ready) {
    auto ready = std::make_shared<nb::object>(std::move(on_ready));
    (void)core_.start().then([ready] { call_quietly(*ready); });
  }

  void start_stdio(int in_fd, int out_fd, nb::object on_closed) {
    if (stdio_ || http_) throw std::runtime_error("McpProxy: already serving");
    core_.set_limit_in_core(true);
    stdio_ = std::make_unique<mcp::StdioTransport>(loop_, core_, in_fd, out_fd);
    on_closed_ = std::move(on_closed);
    stdio_->on_closed([this] { call_quietly(on_closed_); });
    if (!stdio_->start()) {
      stdio_.reset();
      throw std::system_error(errno, std::generic_category(), "McpProxy.start_stdio");
    }
  }

  // Streamable HTTP on our own listener: the rate limit is checked per client (Mcp-Session-Id,
  // else the peer address) before the MCP transport sees the request.
  int start_http(const std::string& host, int port, const std::string& path, nb::list origins,
                 nb::list hosts, double session_idle_timeout, size_t max_sessions) {
    if (stdio_ || http_) throw std::runtime_error("McpProxy: already serving");
    if (port < 0 || port > 65535) throw nb::value_error("port must be in 0..65535");
    serve_with(http_options(host, path, origins, hosts, session_idle_timeout, max_sessions));
    http::ServerConfig cfg;
    cfg.host = host;
    cfg.port = static_cast<uint16_t>(port);
    cfg.limits.max_body_bytes = mcp::kMaxMessageBytes;
    server_ = std::make_unique<http::Server>(loop_, cfg);
    auto handler = [this](http::Request& req, http::Response& res) {
      std::string_view key = req.header("mcp-session-id");
      if (key.empty()) key = req.peer.host;
      Duration wait;
      if (!core_.limiter().take(key, loop_.update_now(), wait)) {
        std::string headers;
        std::string body = too_many(wait, headers);
        res.send(http::ResponseHead{429, "application/json", headers}, body);
        return;
      }
      http_->serve(req, res);
    };
    server_->route("POST", path, handler);
    server_->route("GET", path, handler);
    server_->route("DELETE", path, handler);
    return server_->listen();
  }

  void mount(const std::string& host, const std::string& path, nb::list origins, nb::list hosts,
             double session_idle_timeout, size_t max_sessions) {
    if (stdio_ || http_) throw std::runtime_error("McpProxy: already serving");
    serve_with(http_options(host, path, origins, hosts, session_idle_timeout, max_sessions));
  }

  // Live Streamable HTTP sessions (0 when not serving HTTP).
  size_t sessions() const { return http_ ? http_->sessions() : 0; }

  // One mounted exchange (an App's route); `peer` keys the rate limit when no session is named.
  void exchange(const std::string& method, nb::list headers, nb::bytes body, nb::object sink,
                const std::string& peer) {
    if (!http_) throw std::runtime_error("McpProxy.exchange: call mount() first");
    std::vector<std::pair<std::string, std::string>> owned;
    for (auto item : headers) {
      nb::tuple pair = nb::borrow<nb::tuple>(item);
      owned.emplace_back(nb::cast<std::string>(pair[0]), nb::cast<std::string>(pair[1]));
    }
    auto header = [&owned](std::string_view name) -> std::string_view {
      for (const auto& [k, v] : owned)
        if (k == name) return v;
      return {};
    };
    auto res = bind_sink(sink);
    std::string_view key = header("mcp-session-id");
    if (key.empty()) key = peer;
    Duration wait;
    if (!core_.limiter().take(key, loop_.update_now(), wait)) {
      std::string extra;
      std::string text = too_many(wait, extra);
      res->send(429, "application/json", extra, text);
      return;
    }
    mcp::HttpRequestView view{method, std::string_view(body.c_str(), body.size()), header};
    http_->serve(view, res);
  }

  // Runs the loop on this thread until stop() (or a Python signal handler raises, e.g. Ctrl-C):
  // for a process that only serves the proxy, so no event passes through asyncio.
  void run() {
    stopped_ = false;
    while (!stopped_) {
      loop_.run_once(100);  // at most 100 ms between signal checks
      if (PyErr_Occurred() || PyErr_CheckSignals() != 0) throw nb::python_error();
    }
  }
  void stop() { stopped_ = true; }

  std::string status() { return core_.status_json(); }
  size_t in_flight() const { return core_.in_flight(); }
  int fileno() const { return loop_.fd(); }
  void poll() {
    loop_.run_once(0);
    if (PyErr_Occurred()) throw nb::python_error();
  }
  int next_timer_ms() const { return loop_.next_timer_ms(); }
  void close() {
    if (server_) server_->close();
    stdio_.reset();
    http_.reset();
    core_.close();
    // Run the loop until every stdio child is reaped (EOF, then SIGTERM and SIGKILL after
    // StdioUpstream::kGrace each): no zombie, no leaked upstream.
    for (int i = 0; i < 1000 && !core_.closed(); ++i) loop_.run_once(10);
  }

 private:
  static cl::UpstreamOptions options(double timeout_s, bool probe_modern) {
    cl::UpstreamOptions o;
    o.client_name = "fasterapi-mcp-proxy";
    o.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::llround(timeout_s * 1000)));
    o.probe_modern = probe_modern;
    // Relayed to the client whose call is running, if that client declared them
    // (src/mcp/proxy/forward_upstream.cpp); refused with -32601 otherwise.
    o.capabilities = R"({"sampling":{},"elicitation":{"form":{}},"roots":{}})";
    return o;
  }
  // The transport listens on nothing of its own (start_http's listener puts the rate limit in
  // front of it; mounted, an App's routes hand it exchanges) but runs its timers on our loop:
  // calls whose client hung up are cancelled upstream (basic/utilities/cancellation.mdx), and
  // sessions idle past the timeout end as DELETE ends them (transports.mdx "Session
  // Management"), even with no further request.
  void serve_with(mcp::HttpOptions opts) {
    http_ = std::make_unique<mcp::HttpTransport>(loop_, core_, std::move(opts),
                                                 mcp::HttpTransport::Listener::kNone);
  }

  EventLoop loop_;
  px::ProxyCore core_;
  std::unique_ptr<mcp::StdioTransport> stdio_;
  std::unique_ptr<mcp::HttpTransport> http_;
  std::unique_ptr<http::Server> server_;
  nb::object on_closed_;
  bool stopped_ = false;
};

}  // namespace

void register_mcp_proxy(nb::module_& m) {
  nb::class_<McpProxy>(m, "McpProxy",
                       "MCP proxy core: upstreams, breakers, rate limit, transports.")
      .def(nb::init<std::string, std::string, int, double, int, double, double>(), nb::arg("name"),
           nb::arg("version"), nb::arg("failure_threshold"), nb::arg("cooldown"),
           nb::arg("half_open_probes"), nb::arg("rate"), nb::arg("burst"))
      .def("add_http", &McpProxy::add_http, nb::arg("name"), nb::arg("url"), nb::arg("headers"),
           nb::arg("timeout"), nb::arg("max_connections"), nb::arg("probe_modern"),
           nb::arg("verify") = true, nb::arg("cafile") = "")
      .def("add_stdio", &McpProxy::add_stdio, nb::arg("name"), nb::arg("argv"), nb::arg("timeout"),
           nb::arg("probe_modern"))
      .def("start", &McpProxy::start, nb::arg("on_ready"))
      .def("start_stdio", &McpProxy::start_stdio, nb::arg("in_fd"), nb::arg("out_fd"),
           nb::arg("on_closed"))
      .def("start_http", &McpProxy::start_http, nb::arg("host"), nb::arg("port"),
           nb::arg("path") = "/mcp", nb::arg("allowed_origins") = nb::list(),
           nb::arg("allowed_hosts") = nb::list(), nb::arg("session_idle_timeout") = 1800.0,
           nb::arg("max_sessions") = 10000,
           "Serves Streamable HTTP at path; returns the bound port. Sessions idle for "
           "session_idle_timeout seconds end (<= 0: never); max_sessions 0: no limit.")
      .def("mount", &McpProxy::mount, nb::arg("host"), nb::arg("path"),
           nb::arg("allowed_origins") = nb::list(), nb::arg("allowed_hosts") = nb::list(),
           nb::arg("session_idle_timeout") = 1800.0, nb::arg("max_sessions") = 10000,
           "Serves Streamable HTTP through exchange() calls (an App's routes).")
      .def("sessions", &McpProxy::sessions, "Live Streamable HTTP sessions.")
      .def("exchange", &McpProxy::exchange, nb::arg("method"), nb::arg("headers"), nb::arg("body"),
           nb::arg("sink"), nb::arg("peer"))
      .def("run", &McpProxy::run, "Runs the loop here until stop() or a signal handler raises.")
      .def("stop", &McpProxy::stop)
      .def("status", &McpProxy::status,
           "JSON: each upstream's breaker state, failures, liveness, era.")
      .def("in_flight", &McpProxy::in_flight)
      .def("fileno", &McpProxy::fileno)
      .def("poll", &McpProxy::poll)
      .def("next_timer_ms", &McpProxy::next_timer_ms)
      .def("close", &McpProxy::close);
}

}  // namespace fa::py
