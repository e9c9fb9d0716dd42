// fasterapi._native.McpServer: the MCP protocol core (src/mcp/) driven from Python. Per message
// the C++ side reads, parses and dispatches, then calls one Python runner (the tool's own
// wrapper), encodes its result with our JSON encoder and writes it: one crossing into Python.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth_binding.h"
#include "core/event_loop.h"
#include "http_options.h"
#include "json_decode.h"
#include "json_encode.h"
#include "mcp/http_transport.h"
#include "mcp/server_core.h"
#include "mcp/stdio_transport.h"
#include "py_reply.h"
#include "registry.h"
#include "sink_responder.h"

namespace nb = nanobind;

namespace fa::py {

namespace {

std::string encode_or_throw(nb::handle obj) {
  std::string out;
  if (!json_encode(obj.ptr(), out)) throw nb::python_error();
  return out;
}

struct Runner {
  nb::object fn;
  bool wants_reply;  // fn(args, reply) rather than fn(args)
};

class PyApplication final : public mcp::Application {
 public:
  void call(const mcp::Call& call, mcp::Reply reply) override;
  void cancel(uint64_t call_id) override {
    if (!on_cancel.is_valid() || on_cancel.is_none()) return;
    PyObject* id = PyLong_FromUnsignedLongLong(call_id);
    PyObject* r = id ? PyObject_CallOneArg(on_cancel.ptr(), id) : nullptr;
    Py_XDECREF(id);
    if (!r) PyErr_WriteUnraisable(on_cancel.ptr());
    Py_XDECREF(r);
  }

  void response(uint64_t number, bool ok, std::string_view json) override {
    if (!on_response.is_valid() || on_response.is_none()) return;
    PyObject* value = json.empty() ? (Py_INCREF(Py_None), Py_None) : json_decode(json);
    if (!value) {
      PyErr_Clear();
      value = Py_None;
      Py_INCREF(value);
      ok = false;
    }
    PyObject* r =
        PyObject_CallFunction(on_response.ptr(), "KOO", static_cast<unsigned long long>(number),
                              ok ? Py_True : Py_False, value);
    Py_DECREF(value);
    if (!r) PyErr_WriteUnraisable(on_response.ptr());
    Py_XDECREF(r);
  }

  std::vector<Runner> tools, resources, prompts;
  Runner resource_fallback, completion;
  nb::object pending, on_cancel, on_response;

 private:
  void answer(PyObject* result, mcp::Reply& reply);
  void fail(mcp::Reply& reply);
  std::string out_;
};

void PyApplication::call(const mcp::Call& call, mcp::Reply reply) {
  const Runner* runner = nullptr;
  switch (call.kind) {
    case mcp::CallKind::kTool:
      runner = &tools[static_cast<size_t>(call.index)];
      break;
    case mcp::CallKind::kPrompt:
      runner = &prompts[static_cast<size_t>(call.index)];
      break;
    case mcp::CallKind::kResource:
      runner = call.index >= 0 ? &resources[static_cast<size_t>(call.index)] : &resource_fallback;
      break;
    case mcp::CallKind::kCompletion:
      runner = &completion;
      break;
  }
  if (!runner->fn.is_valid()) {
    reply.error(
        call.kind == mcp::CallKind::kResource ? mcp::kResourceNotFound : mcp::kMethodNotFound,
        call.kind == mcp::CallKind::kResource ? "Resource not found" : "Method not found");
    return;
  }
  PyObject* first;
  if (call.kind == mcp::CallKind::kResource) {
    first =
        PyUnicode_FromStringAndSize(call.name.data(), static_cast<Py_ssize_t>(call.name.size()));
  } else {
    std::string_view text = call.kind == mcp::CallKind::kCompletion ? call.params : call.arguments;
    first = text.empty() ? PyDict_New() : json_decode(text);
    if (!first) {
      PyErr_Clear();
      reply.error(mcp::kParseError, "Parse error");
      return;
    }
  }
  if (!first) return fail(reply);
  PyObject* result;
  if (runner->wants_reply) {
    nb::object pyreply = nb::cast(PyReply{reply});
    PyObject* args[2] = {first, pyreply.ptr()};
    result = PyObject_Vectorcall(runner->fn.ptr(), args, 2, nullptr);
  } else {
    result = PyObject_CallOneArg(runner->fn.ptr(), first);
  }
  Py_DECREF(first);
  if (!result) return fail(reply);
  if (result != pending.ptr()) answer(result, reply);
  Py_DECREF(result);
}

void PyApplication::answer(PyObject* result, mcp::Reply& reply) {
  out_.clear();
  if (!json_encode(result, out_)) return fail(reply);
  reply.result(out_);
}

// A runner raised: an exception carrying `mcp_code` is a protocol error the runner chose
// (unknown resource, bad params); anything else is an internal error.
void PyApplication::fail(mcp::Reply& reply) {
  nb::python_error err;
  nb::handle value = err.value();
  int code = mcp::kInternalError;
  std::string data;
  if (PyObject_HasAttrString(value.ptr(), "mcp_code")) {
    nb::object c = value.attr("mcp_code");
    if (PyLong_Check(c.ptr())) code = nb::cast<int>(c);
    if (PyObject_HasAttrString(value.ptr(), "mcp_data")) {
      nb::object d = value.attr("mcp_data");
      if (!d.is_none()) {
        if (!json_encode(d.ptr(), data)) {
          PyErr_Clear();
          data.clear();
        }
      }
    }
  } else {
    err.restore();
    PyErr_WriteUnraisable(nullptr);
    reply.error(code, "Internal error");
    return;
  }
  std::string message = nb::cast<std::string>(nb::str(value));
  reply.error(code, message, data);
}

class McpServer {
 public:
  McpServer(std::string name, std::string version, std::string title, std::string instructions)
      : core_(app_, mcp::ServerInfo{std::move(name), std::move(version), std::move(title),
                                    std::move(instructions)}) {}
  ~McpServer() { close(); }

  int add_tool(const std::string& name, nb::handle descriptor, nb::object fn, bool wants_reply) {
    int i = core_.add_tool(name, encode_or_throw(descriptor));
    put(app_.tools, i, Runner{std::move(fn), wants_reply});
    return i;
  }
  int add_resource(const std::string& uri, nb::handle descriptor, nb::object fn, bool wants_reply) {
    int i = core_.add_resource(uri, encode_or_throw(descriptor));
    put(app_.resources, i, Runner{std::move(fn), wants_reply});
    return i;
  }
  void add_resource_template(nb::handle descriptor) {
    core_.add_resource_template(encode_or_throw(descriptor));
  }
  int add_prompt(const std::string& name, nb::handle descriptor, nb::object fn, bool wants_reply) {
    int i = core_.add_prompt(name, encode_or_throw(descriptor));
    put(app_.prompts, i, Runner{std::move(fn), wants_reply});
    return i;
  }
  void set_resource_fallback(nb::object fn) {
    app_.resource_fallback = Runner{std::move(fn), true};
  }
  void set_completion(nb::object fn) {
    app_.completion = Runner{std::move(fn), true};
    core_.set_completions(true);
  }
  void set_hooks(nb::object pending, nb::object on_cancel) {
    app_.pending = std::move(pending);
    app_.on_cancel = std::move(on_cancel);
  }
  void set_page_size(size_t n) { core_.set_page_size(n); }
  void set_tasks(bool enabled) { core_.set_tasks(enabled); }
  void set_response_hook(nb::object fn) { app_.on_response = std::move(fn); }
  bool remove_tool(const std::string& name) { return core_.remove_tool(name); }
  bool remove_prompt(const std::string& name) { return core_.remove_prompt(name); }
  bool remove_resource(const std::string& uri) { return core_.remove_resource(uri); }
  size_t notify_list_changed(const std::string& what) {
    if (what != "tools" && what != "prompts" && what != "resources")
      throw nb::value_error("what must be 'tools', 'prompts' or 'resources'");
    return core_.notify_list_changed(what);
  }
  size_t notify_resource_updated(const std::string& uri) {
    return core_.notify_resource_updated(uri);
  }
  void set_tool_headers(const std::string& name, nb::list pairs) {
    std::vector<mcp::ParamHeader> params;
    for (auto item : pairs) {
      nb::tuple pair = nb::borrow<nb::tuple>(item);
      std::string header = nb::cast<std::string>(pair[0]);
      for (char& c : header) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      params.push_back(mcp::ParamHeader{std::move(header), nb::cast<std::string>(pair[1])});
    }
    core_.set_tool_headers(name, std::move(params));
  }

  void start_stdio(int in_fd, int out_fd, nb::object on_closed) {
    if (stdio_ || http_) throw std::runtime_error("McpServer: already serving");
    stdio_ = std::make_unique<mcp::StdioTransport>(loop_, core_, in_fd, out_fd);
    on_closed_ = std::move(on_closed);
    stdio_->on_closed([this] {
      if (on_closed_.is_valid() && !on_closed_.is_none()) {
        PyObject* r = PyObject_CallNoArgs(on_closed_.ptr());
        if (!r) PyErr_WriteUnraisable(on_closed_.ptr());
        Py_XDECREF(r);
      }
    });
    if (!stdio_->start()) {
      stdio_.reset();
      throw std::system_error(errno, std::generic_category(), "McpServer.start_stdio");
    }
  }

  // Bearer authorization for the HTTP transports started after this call.
  void set_auth(nb::handle verifier, const std::string& metadata_json,
                const std::string& metadata_url, const std::string& metadata_path,
                const std::string& scope) {
    auto a = std::make_shared<mcp::HttpAuth>();
    a->verifier = jwt_verifier_of(verifier);
    a->metadata_json = metadata_json;
    a->metadata_url = metadata_url;
    a->metadata_path = metadata_path;
    a->scope = scope;
    auth_ = std::move(a);
  }

  int start_http(const std::string& host, int port, const std::string& path,
                 nb::list allowed_origins, nb::list allowed_hosts, double session_idle_timeout,
                 size_t max_sessions) {
    if (stdio_ || http_) throw std::runtime_error("McpServer: already serving");
    if (port < 0 || port > 65535) throw nb::value_error("port must be in 0..65535");
    mcp::HttpOptions opts = http_options(host, path, allowed_origins, allowed_hosts,
                                         session_idle_timeout, max_sessions);
    opts.port = static_cast<uint16_t>(port);
    opts.auth = auth_;
    http_ = std::make_unique<mcp::HttpTransport>(loop_, core_, std::move(opts));
    return http_->listen();
  }

  // Serves Streamable HTTP exchanges handed over by exchange() (an App's routes).
  void mount(const std::string& host, const std::string& path, nb::list allowed_origins,
             nb::list allowed_hosts, double session_idle_timeout, size_t max_sessions) {
    if (stdio_ || http_) throw std::runtime_error("McpServer: already serving");
    mcp::HttpOptions opts = http_options(host, path, allowed_origins, allowed_hosts,
                                         session_idle_timeout, max_sessions);
    opts.auth = auth_;
    http_ = std::make_unique<mcp::HttpTransport>(core_, std::move(opts));
  }

  // One mounted exchange: method, [(name, value)] with lower-case names, the body, the sink.
  void exchange(const std::string& method, nb::list headers, nb::bytes body, nb::object sink) {
    if (!http_) throw std::runtime_error("McpServer.exchange: call mount() first");
    std::vector<std::pair<std::string, std::string>> owned;
    owned.reserve(headers.size());
    for (auto item : headers) {
      nb::tuple pair = nb::borrow<nb::tuple>(item);
      owned.emplace_back(nb::cast<std::string>(pair[0]), nb::cast<std::string>(pair[1]));
    }
    mcp::HttpRequestView view{method, std::string_view(body.c_str(), body.size()),
                              [&owned](std::string_view name) -> std::string_view {
                                for (const auto& [k, v] : owned)
                                  if (k == name) return v;
                                return {};
                              }};
    http_->serve(view, bind_sink(std::move(sink)));
  }

  // Live Streamable HTTP sessions (0 when not serving HTTP).
  size_t sessions() const { return http_ ? http_->sessions() : 0; }

  int fileno() const { return loop_.fd(); }
  void poll() {
    loop_.run_once(0);
    if (PyErr_Occurred()) throw nb::python_error();
  }
  int next_timer_ms() const { return loop_.next_timer_ms(); }
  void close() {
    stdio_.reset();
    http_.reset();
  }

 private:
  static void put(std::vector<Runner>& v, int i, Runner r) {
    if (static_cast<size_t>(i) >= v.size()) v.resize(static_cast<size_t>(i) + 1);
    v[static_cast<size_t>(i)] = std::move(r);
  }

  EventLoop loop_;
  PyApplication app_;
  mcp::ServerCore core_;
  std::unique_ptr<mcp::StdioTransport> stdio_;
  std::unique_ptr<mcp::HttpTransport> http_;
  nb::object on_closed_;
  std::shared_ptr<const mcp::HttpAuth> auth_;
};

}  // namespace

void register_mcp(nb::module_& m) {
  register_mcp_reply(m);
  nb::class_<McpServer>(m, "McpServer",
                        "The MCP server core (revision 2025-11-25) and its transports.")
      .def(nb::init<std::string, std::string, std::string, std::string>(), nb::arg("name"),
           nb::arg("version"), nb::arg("title") = "", nb::arg("instructions") = "")
      .def("add_tool", &McpServer::add_tool, nb::arg("name"), nb::arg("descriptor"),
           nb::arg("runner"), nb::arg("wants_reply"),
           "Registers a tool: its Tool descriptor (encoded once) and runner(arguments[, reply]), "
           "which returns the CallToolResult object or the pending sentinel.")
      .def("add_resource", &McpServer::add_resource, nb::arg("uri"), nb::arg("descriptor"),
           nb::arg("runner"), nb::arg("wants_reply"))
      .def("add_resource_template", &McpServer::add_resource_template, nb::arg("descriptor"))
      .def("add_prompt", &McpServer::add_prompt, nb::arg("name"), nb::arg("descriptor"),
           nb::arg("runner"), nb::arg("wants_reply"))
      .def("set_resource_fallback", &McpServer::set_resource_fallback, nb::arg("runner"),
           "runner(uri, reply) for resources/read of a URI no static resource has.")
      .def("set_completion", &McpServer::set_completion, nb::arg("runner"),
           "runner(params, reply) for completion/complete; enables the capability.")
      .def("set_hooks", &McpServer::set_hooks, nb::arg("pending"), nb::arg("on_cancel"),
           "pending: what runners return when they answer later; on_cancel(call_id).")
      .def("set_page_size", &McpServer::set_page_size, nb::arg("n"))
      .def("set_tasks", &McpServer::set_tasks, nb::arg("enabled"),
           "Serves the tasks extension (SEP-2663) to 2026-07-28 clients.")
      .def("set_auth", &McpServer::set_auth, nb::arg("verifier"), nb::arg("metadata_json"),
           nb::arg("metadata_url"), nb::arg("metadata_path"), nb::arg("scope"),
           "Bearer authorization (a JwtVerifier) for HTTP transports started afterwards.")
      .def("set_response_hook", &McpServer::set_response_hook, nb::arg("fn"),
           "fn(number, ok, value): the client answered request `number` (McpReply.request).")
      .def("remove_tool", &McpServer::remove_tool, nb::arg("name"))
      .def("remove_prompt", &McpServer::remove_prompt, nb::arg("name"))
      .def("remove_resource", &McpServer::remove_resource, nb::arg("uri"))
      .def("notify_list_changed", &McpServer::notify_list_changed, nb::arg("what"),
           "notifications/<what>/list_changed to every listening session; returns how many.")
      .def("notify_resource_updated", &McpServer::notify_resource_updated, nb::arg("uri"),
           "notifications/resources/updated to the sessions subscribed to uri.")
      .def("set_tool_headers", &McpServer::set_tool_headers, nb::arg("name"), nb::arg("pairs"),
           "[(header, property)]: the tool's arguments mirrored into Mcp-Param-* headers.")
      .def("start_stdio", &McpServer::start_stdio, nb::arg("in_fd"), nb::arg("out_fd"),
           nb::arg("on_closed"), "Serves newline-delimited JSON-RPC on the fds.")
      .def("start_http", &McpServer::start_http, nb::arg("host"), nb::arg("port"),
           nb::arg("path") = "/mcp", nb::arg("allowed_origins") = nb::list(),
           nb::arg("allowed_hosts") = nb::list(), nb::arg("session_idle_timeout") = 1800.0,
           nb::arg("max_sessions") = 10000,
           "Serves Streamable HTTP at path; returns the bound port. Sessions idle for "
           "session_idle_timeout seconds end (<= 0: never); max_sessions 0: no limit.")
      .def("mount", &McpServer::mount, nb::arg("host"), nb::arg("path"),
           nb::arg("allowed_origins") = nb::list(), nb::arg("allowed_hosts") = nb::list(),
           nb::arg("session_idle_timeout") = 1800.0, nb::arg("max_sessions") = 10000,
           "Serves Streamable HTTP through exchange() calls (an App's routes).")
      .def("sessions", &McpServer::sessions, "Live Streamable HTTP sessions.")
      .def("exchange", &McpServer::exchange, nb::arg("method"), nb::arg("headers"), nb::arg("body"),
           nb::arg("sink"),
           "Handles one mounted HTTP exchange; the answer goes to sink.send or "
           "sink.start/write/end.")
      .def("fileno", &McpServer::fileno, "An fd that is readable when poll() has work.")
      .def("poll", &McpServer::poll, "Runs ready I/O and due timers without blocking.")
      .def("next_timer_ms", &McpServer::next_timer_ms)
      .def("close", &McpServer::close, "Stops serving.");
}

}  // namespace fa::py
