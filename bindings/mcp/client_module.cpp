// Python bindings for src/mcp/client (sans I/O): _native.McpHttpResponseParser and
// _native.McpSseParser. fasterapi/mcp/client.py reads the socket with asyncio and feeds the
// bytes here; framing (status line, headers, Content-Length / chunked / close, SSE fields) is
// done in C++.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "mcp/client/http_response.h"
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

}  // namespace

void register_mcp_proxy(nb::module_& m);  // proxy_module.cpp: McpProxy

void register_mcp_client(nb::module_& m) {
  register_mcp_proxy(m);
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
}

}  // namespace fa::py
