// Python bindings for src/mcp/client: _native.McpClient, one upstream connection (a stdio child
// or Streamable HTTP) on its own EventLoop, driven from asyncio (fasterapi/mcp/_serve._Driver):
// fasterapi.mcp.MCPClient's I/O, framing, id correlation, timeouts and cancellation all happen
// here; a completion resolves the caller's asyncio future directly from the C++ continuation
// (no extra loop pass). Also the sans-I/O parsers as _native.McpHttpResponseParser and
// _native.McpSseParser (tested from Python).
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/event_loop.h"
#include "json_decode.h"
#include "mcp/auth/dpop.h"
#include "mcp/client/http_response.h"
#include "mcp/client/http_upstream.h"
#include "mcp/client/stdio_upstream.h"
#include "registry.h"

namespace nb = nanobind;
namespace cl = fa::mcp::client;

namespace fa::py {
namespace {

class PyResponseParser : cl::ResponseSink {
 public:
  explicit PyResponseParser(bool head_request) : parser_(head_request) {}

  // Feeds bytes; returns how many belonged to this response.
  size_t feed(nb::bytes data) {
    return parser_.feed(std::string_view(data.c_str(), data.size()), *this);
  }
  bool finish() { return parser_.finish(*this); }
  void reset(bool head_request) {
    parser_.reset(head_request);
    body_.clear();
    has_head_ = false;
  }
  nb::bytes take_body() {
    nb::bytes out(body_.data(), body_.size());
    body_.clear();
    return out;
  }
  std::optional<std::tuple<int, std::string, std::vector<std::pair<std::string, std::string>>>>
  head() const {
    if (!has_head_) return std::nullopt;
    const auto& h = parser_.head();
    return std::make_tuple(h.status, h.reason, h.headers);
  }
  bool done() const { return parser_.done(); }
  bool failed() const { return parser_.failed(); }
  std::string error() const { return parser_.error(); }
  bool keep_alive() const { return parser_.keep_alive(); }

 private:
  void on_head(const cl::ResponseHead&) override { has_head_ = true; }
  void on_body(std::string_view b) override { body_.append(b); }
  void on_complete() override {}

  cl::HttpResponseParser parser_;
  std::string body_;
  bool has_head_ = false;
};

class PySseParser : cl::SseSink {
 public:
  // Returns the events completed by `data` as (type, data, last event id) tuples; raises
  // ValueError once an event exceeds the size limit.
  std::vector<std::tuple<std::string, std::string, std::string>> feed(nb::bytes data) {
    events_.clear();
    if (!parser_.feed(std::string_view(data.c_str(), data.size()), *this))
      throw nb::value_error("SSE event larger than 16 MiB");
    return std::move(events_);
  }
  std::optional<std::string> last_event_id() const {
    if (parser_.last_event_id().empty()) return std::nullopt;
    return parser_.last_event_id();
  }
  std::optional<uint64_t> retry_ms() const {
    if (!parser_.has_retry()) return std::nullopt;
    return parser_.retry_ms();
  }

 private:
  void on_event(const cl::SseEvent& e) override {
    events_.emplace_back(std::string(e.type), std::string(e.data), std::string(e.id));
  }

  cl::SseParser parser_;
  std::vector<std::tuple<std::string, std::string, std::string>> events_;
};

// Raw JSON -> Python object (None for empty text); a decode error becomes None.
nb::object decode(std::string_view json) {
  if (json.empty()) return nb::none();
  PyObject* o = json_decode(json);
  if (!o) {
    PyErr_Clear();
    return nb::none();
  }
  return nb::steal(o);
}

// Resolves an asyncio future unless it was cancelled meanwhile (the caller gave up).
// Never throws: it runs in C++ continuations, and the asyncio loop may be closed by now (a
// request failed while the client is destroyed after asyncio.run() returned).
void settle(const nb::object& afut, nb::object value) {
  try {
    if (nb::cast<bool>(afut.attr("done")())) return;
    afut.attr("set_result")(std::move(value));
  } catch (nb::python_error& e) {
    e.discard_as_unraisable("MCPClient: delivering a result");
  }
}

void call_guarded(const nb::object& fn, const char* where, auto&&... args) {
  if (!fn.is_valid() || fn.is_none()) return;
  try {
    fn(std::forward<decltype(args)>(args)...);
  } catch (nb::python_error& e) {
    e.discard_as_unraisable(where);
  }
}

class McpClient {
 public:
  McpClient() = default;
  ~McpClient() { close(); }

  void open_stdio(std::vector<std::string> argv, std::optional<std::vector<std::string>> env,
                  std::string cwd, int stderr_fd, double grace_s, std::string capabilities) {
    if (up_) throw std::runtime_error("McpClient: already open");
    if (argv.empty()) throw nb::value_error("empty command");
    cl::StdioOptions so;
    so.env = std::move(env);
    so.cwd = std::move(cwd);
    so.stderr_fd = stderr_fd;
    so.grace = std::chrono::milliseconds(static_cast<int64_t>(grace_s * 1000));
    auto up = cl::StdioUpstream::create(loop_, std::move(argv), options(capabilities), so);
    stdio_ = up.get();
    attach(up);
  }

  // `verify`/`cafile`: https:// certificate checks (HttpUpstreamOptions::tls_verify/tls_cafile).
  void open_http(const std::string& url, const std::string& headers, size_t max_connections,
                 std::string capabilities, bool verify, std::string cafile) {
    if (up_) throw std::runtime_error("McpClient: already open");
    cl::HttpUrl parsed;
    if (!cl::parse_http_url(url, parsed))
      throw nb::value_error(("not an http:// or https:// URL: " + url).c_str());
    cl::HttpUpstreamOptions ho;
    ho.headers = headers;
    ho.max_connections = max_connections;
    ho.tls_verify = verify;
    ho.tls_cafile = std::move(cafile);
    auto up = cl::HttpUpstream::create(loop_, parsed, options(capabilities), ho);
    http_ = up.get();
    attach(up);
  }

  // on_message(is_request, id, method, params): notifications and server requests;
  // on_closed(reason): once, when the connection ends.
  void set_handlers(nb::object on_message, nb::object on_closed) {
    on_message_ = std::move(on_message);
    on_closed_ = std::move(on_closed);
  }

  // Connects (spawns); afut gets None, or the exception ConnectionError(why).
  void start(nb::object afut) {
    (void)up().start().then_wrapped([this, afut](future<>&& f) {
      (void)pid();  // remember the child's pid while it is known
      std::string why;
      if (f.failed()) {
        why = "cannot connect";
        try {
          std::rethrow_exception(f.get_exception());
        } catch (const std::exception& e) {
          why = e.what();
        }
      }
      try {
        if (nb::cast<bool>(afut.attr("done")())) return;
        if (why.empty())
          afut.attr("set_result")(nb::none());
        else
          afut.attr("set_exception")(nb::borrow(PyExc_ConnectionError)(nb::str(why.c_str())));
      } catch (nb::python_error& e) {
        e.discard_as_unraisable("MCPClient: connecting");
      }
    });
  }

  // Sends a request whose params object is `params` (JSON text, verbatim); afut gets
  // (True, result) or (False, (code, message, data, local)). timeout_s < 0: none. Returns its id.
  // `param_headers`: (x-mcp-header name, value as text) pairs sent as Mcp-Param-* headers
  // (2026-07-28 HTTP; ignored on stdio and in the 2025-11-25 era).
  uint64_t request(const std::string& method, const std::string& params, const std::string& name,
                   double timeout_s, nb::object afut,
                   std::vector<std::pair<std::string, std::string>> param_headers) {
    std::vector<cl::ParamHeader> mirrored;
    mirrored.reserve(param_headers.size());
    for (auto& [header, value] : param_headers)
      mirrored.push_back(cl::ParamHeader{std::move(header), std::move(value)});
    cl::Request r{method, {}, {}, name, params};
    r.param_headers = mirrored;
    r.timeout = timeout_s < 0 ? std::chrono::milliseconds(0)
                              : std::chrono::milliseconds(
                                    std::max<int64_t>(1, static_cast<int64_t>(timeout_s * 1000)));
    uint64_t id = 0;
    auto answer = up().call(r, &id);
    auto deliver = [afut](cl::Response&& resp) {
      if (resp.ok) {
        settle(afut, nb::make_tuple(true, decode(resp.result)));
      } else {
        settle(afut, nb::make_tuple(false, nb::make_tuple(resp.code, nb::str(resp.message.c_str()),
                                                          decode(resp.data), resp.local)));
      }
    };
    if (answer.available())
      deliver(answer.get());
    else
      (void)answer.then([deliver](cl::Response resp) { deliver(std::move(resp)); });
    return id;
  }

  void cancel(uint64_t id, const std::string& reason) { up().cancel(id, reason); }
  void notify(const std::string& method, const std::string& params) { up().notify(method, params); }
  void respond(const std::string& id, const std::string& result) { up().respond(id, result); }
  void respond_error(const std::string& id, int code, const std::string& message) {
    up().respond_error(id, code, message);
  }
  void set_era(bool modern, std::string version) { up().set_era(modern, std::move(version)); }
  void listen() { up().listen(); }
  // Ends the session (HTTP: DELETE; stdio: EOF, TERM, KILL, reaped); afut gets None after.
  void shutdown(nb::object afut) {
    if (!up_) return settle(afut, nb::none());
    (void)up_->shutdown().then_wrapped([afut](future<>&& f) {
      if (f.failed()) (void)f.get_exception();
      settle(afut, nb::none());
    });
  }
  void close() {
    if (up_) up_->close();
  }

  int fileno() const { return loop_.fd(); }
  void poll() { loop_.run_once(0); }
  int next_timer_ms() const { return loop_.next_timer_ms(); }
  std::optional<std::string> session_id() const {
    if (!http_ || http_->session_id().empty()) return std::nullopt;
    return http_->session_id();
  }
  std::optional<int> pid() const {
    if (stdio_ && stdio_->pid() > 0) pid_seen_ = stdio_->pid();
    if (!pid_seen_) return std::nullopt;
    return pid_seen_;
  }
  std::optional<int> returncode() const { return stdio_ ? stdio_->returncode() : std::nullopt; }
  size_t connects() const { return http_ ? http_->connects() : 0; }
  void set_headers(const std::string& headers) {
    if (!http_) throw std::runtime_error("McpClient: set_headers needs an HTTP upstream");
    http_->set_headers(headers);
  }
  bool listening() const { return http_ && http_->listening(); }
  // DPoP (RFC 9449): every request from now on carries a fresh proof from `key` bound to
  // `access_token` (the Authorization header, set_headers, says `DPoP <token>`); None: no proofs.
  void set_dpop(std::shared_ptr<fa::mcp::auth::DpopKey> key, std::string access_token) {
    if (!http_) throw std::runtime_error("McpClient: set_dpop needs an HTTP upstream");
    if (!key) return http_->set_dpop({});
    http_->set_dpop([key, token = std::move(access_token)](
                        std::string_view htm, std::string_view htu, std::string_view nonce) {
      try {
        return key->proof(htm, htu, token, nonce);
      } catch (const std::exception&) {
        return std::string();  // sent without a proof: the server says why
      }
    });
  }
  std::string dpop_nonce() const { return http_ ? http_->dpop_nonce() : std::string(); }
  bool alive() const { return up_ && up_->alive(); }

 private:
  cl::UpstreamOptions options(std::string capabilities) {
    cl::UpstreamOptions o;
    o.handshake = false;  // MCPClient runs initialize / server/discover itself
    o.capabilities = capabilities.empty() ? "{}" : std::move(capabilities);
    o.timeout = std::chrono::milliseconds(0);
    return o;
  }
  void attach(std::shared_ptr<cl::Upstream> up) {
    up_ = std::move(up);
    up_->on_notification([this](std::string_view method, std::string_view params) {
      call_guarded(on_message_, "MCPClient notification", false, nb::none(),
                   nb::str(method.data(), method.size()), decode(params));
    });
    up_->on_request([this](std::string_view id, std::string_view method, std::string_view params) {
      call_guarded(on_message_, "MCPClient server request", true, nb::str(id.data(), id.size()),
                   nb::str(method.data(), method.size()), decode(params));
    });
    up_->on_closed([this](std::string_view reason) {
      call_guarded(on_closed_, "MCPClient closed", nb::str(reason.data(), reason.size()));
    });
  }
  cl::Upstream& up() {
    if (!up_) throw std::runtime_error("McpClient: not open");
    return *up_;
  }

  EventLoop loop_;
  std::shared_ptr<cl::Upstream> up_;
  cl::StdioUpstream* stdio_ = nullptr;
  cl::HttpUpstream* http_ = nullptr;
  nb::object on_message_, on_closed_;
  mutable int pid_seen_ = 0;  // the child's pid, also after it was reaped
};

}  // namespace

void register_mcp_proxy(nb::module_& m);  // proxy_module.cpp: McpProxy

void register_mcp_client(nb::module_& m) {
  register_mcp_proxy(m);
  nb::class_<McpClient>(m, "McpClient",
                        "One MCP upstream connection (stdio child or Streamable HTTP) on its own "
                        "C++ EventLoop: fasterapi.mcp.MCPClient's transport")
      .def(nb::init<>())
      .def("open_stdio", &McpClient::open_stdio, nb::arg("argv"), nb::arg("env").none(),
           nb::arg("cwd"), nb::arg("stderr_fd"), nb::arg("grace"), nb::arg("capabilities"))
      .def("open_http", &McpClient::open_http, nb::arg("url"), nb::arg("headers"),
           nb::arg("max_connections"), nb::arg("capabilities"), nb::arg("verify") = true,
           nb::arg("cafile") = "")
      .def("set_handlers", &McpClient::set_handlers, nb::arg("on_message").none(),
           nb::arg("on_closed").none())
      .def("start", &McpClient::start, nb::arg("future"))
      .def("request", &McpClient::request, nb::arg("method"), nb::arg("params"), nb::arg("name"),
           nb::arg("timeout"), nb::arg("future"),
           nb::arg("param_headers") = std::vector<std::pair<std::string, std::string>>{})
      .def("cancel", &McpClient::cancel, nb::arg("id"), nb::arg("reason"))
      .def("notify", &McpClient::notify, nb::arg("method"), nb::arg("params"))
      .def("respond", &McpClient::respond, nb::arg("id"), nb::arg("result"))
      .def("respond_error", &McpClient::respond_error, nb::arg("id"), nb::arg("code"),
           nb::arg("message"))
      .def("set_era", &McpClient::set_era, nb::arg("modern"), nb::arg("version"))
      .def("set_headers", &McpClient::set_headers, nb::arg("headers"))
      .def("set_dpop", &McpClient::set_dpop, nb::arg("key").none(), nb::arg("access_token"))
      .def_prop_ro("dpop_nonce", &McpClient::dpop_nonce)
      .def("listen", &McpClient::listen)
      .def("shutdown", &McpClient::shutdown, nb::arg("future"))
      .def("close", &McpClient::close)
      .def("fileno", &McpClient::fileno)
      .def("poll", &McpClient::poll)
      .def("next_timer_ms", &McpClient::next_timer_ms)
      .def_prop_ro("session_id", &McpClient::session_id)
      .def_prop_ro("pid", &McpClient::pid)
      .def_prop_ro("returncode", &McpClient::returncode)
      .def_prop_ro("connects", &McpClient::connects)
      .def_prop_ro("listening", &McpClient::listening)
      .def_prop_ro("alive", &McpClient::alive);
  nb::class_<PyResponseParser>(m, "McpHttpResponseParser",
                               "Incremental HTTP/1.1 response parser (src/mcp/client)")
      .def(nb::init<bool>(), nb::arg("head_request") = false)
      .def("feed", &PyResponseParser::feed, nb::arg("data"))
      .def("finish", &PyResponseParser::finish)
      .def("reset", &PyResponseParser::reset, nb::arg("head_request") = false)
      .def("take_body", &PyResponseParser::take_body)
      .def_prop_ro("head", &PyResponseParser::head)
      .def_prop_ro("done", &PyResponseParser::done)
      .def_prop_ro("failed", &PyResponseParser::failed)
      .def_prop_ro("error", &PyResponseParser::error)
      .def_prop_ro("keep_alive", &PyResponseParser::keep_alive);
  nb::class_<PySseParser>(m, "McpSseParser", "text/event-stream parser (src/mcp/client)")
      .def(nb::init<>())
      .def("feed", &PySseParser::feed, nb::arg("data"))
      .def_prop_ro("last_event_id", &PySseParser::last_event_id)
      .def_prop_ro("retry_ms", &PySseParser::retry_ms);
  using fa::mcp::auth::DpopKey;
  nb::class_<DpopKey>(m, "McpDpopKey",
                      "A DPoP key pair (ES256, P-256) and its proofs (src/mcp/auth/dpop.h)")
      .def(nb::new_([] { return DpopKey::generate(); }))
      .def_prop_ro("jwk", &DpopKey::jwk)
      .def_prop_ro("thumbprint", &DpopKey::thumbprint)
      .def("proof", &DpopKey::proof, nb::arg("htm"), nb::arg("htu"), nb::arg("access_token") = "",
           nb::arg("nonce") = "", nb::arg("now") = -1);
}

}  // namespace fa::py
