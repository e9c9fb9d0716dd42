// fasterapi._native.EventStream (Server-Sent Events on a Responder, framed in C++ by
// src/sse/) and the Accept-Encoding negotiation helper used by GZipMiddleware and tests.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compress/accept_encoding.h"
#include "json_encode.h"
#include "py_responder.h"
#include "registry.h"
#include "sse/event_stream.h"

namespace nb = nanobind;

namespace fa::py {

namespace {

// A borrowed view of str/bytes; nullopt for None. TypeError names the field otherwise.
std::optional<std::string_view> text_arg(nb::handle h, const char* field) {
  if (h.is_none()) return std::nullopt;
  if (PyUnicode_Check(h.ptr())) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
    if (!s) throw nb::python_error();
    return std::string_view(s, static_cast<size_t>(n));
  }
  if (PyBytes_Check(h.ptr()))
    return std::string_view(PyBytes_AS_STRING(h.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(h.ptr())));
  throw nb::type_error((std::string("EventStream.send: ") + field + " must be str, bytes or None").c_str());
}

struct PyEventStream {
  std::shared_ptr<sse::EventStream> stream;
  std::string json_;  // reused buffer for JSON-encoded data

  bool send(nb::handle data, nb::handle event, nb::handle id, nb::handle retry, nb::handle comment,
            bool json) {
    sse::Event ev;
    if (json) {
      json_.clear();
      if (!json_encode(data.ptr(), json_)) throw nb::python_error();
      ev.data = std::string_view(json_);
    } else {
      ev.data = text_arg(data, "data");
    }
    if (auto e = text_arg(event, "event")) ev.event = *e;
    ev.id = text_arg(id, "id");
    ev.comment = text_arg(comment, "comment");
    if (!retry.is_none()) {
      long long ms = PyLong_AsLongLong(retry.ptr());
      if (ms == -1 && PyErr_Occurred()) throw nb::python_error();
      if (ms < 0) throw nb::value_error("EventStream.send: retry must be >= 0 (milliseconds)");
      ev.retry_ms = ms;
    }
    if (stream->send(ev)) return true;
    if (stream->last_error() != sse::FrameError::kNone)
      throw nb::value_error(std::string(sse::frame_error_reason(stream->last_error())).c_str());
    return false;
  }
};

// Wraps a Python callable as a loop callback that reports (never raises) its errors.
std::function<void()> py_callback(nb::object fn) {
  return [fn]() {
    nb::gil_scoped_acquire gil;
    try {
      fn();
    } catch (nb::python_error& e) {
      e.discard_as_unraisable(fn);
    }
  };
}

compress::CodingSet coding_set(const std::vector<std::string>& names) {
  compress::CodingSet set;
  for (const auto& n : names) {
    compress::Coding c;
    if (!compress::coding_from_name(n, c) || c == compress::Coding::kIdentity)
      throw nb::value_error(("unknown content coding " + n + " (use 'zstd', 'br' or 'gzip')").c_str());
    set = set.with(c);
  }
  return set;
}

}  // namespace

compress::CodingSet parse_codings(const std::vector<std::string>& names) { return coding_set(names); }

void register_sse(nb::module_& m) {
  nb::class_<PyEventStream>(m, "EventStream",
                            "A text/event-stream response (WHATWG HTML §9.2) framed in C++.")
      .def("send", &PyEventStream::send, nb::arg("data").none() = nb::none(), nb::kw_only(),
           nb::arg("event").none() = nb::none(), nb::arg("id").none() = nb::none(),
           nb::arg("retry").none() = nb::none(), nb::arg("comment").none() = nb::none(),
           nb::arg("json") = false,
           "Sends one event: data (str/bytes, or any value the JSON encoder takes when json=True) "
           "split into data: lines on CR/LF. Returns False when the client is gone or output is "
           "over the high-water mark (wait for on_drain). ValueError for CR/LF in event or id.")
      .def(
          "close", [](PyEventStream& s) { s.stream->close(); },
          "Ends the response (or closes a half-closed connection). Idempotent.")
      .def(
          "on_drain",
          [](PyEventStream& s, nb::object fn) {
            if (!s.stream->on_drain(py_callback(fn))) fn();
          },
          nb::arg("fn"), "Calls fn() once when output drains or the connection closes.")
      .def_prop_ro("alive", [](PyEventStream& s) { return s.stream->alive(); },
                   "True while the client is connected and the stream is open.")
      .def_prop_ro("pings", [](PyEventStream& s) { return s.stream->pings_sent(); },
                   "Keep-alive comments sent so far.");

  m.def(
      "start_event_stream",
      [](Responder& r, int status, nb::handle headers, double ping) -> nb::object {
        if (r.loop == nullptr) throw std::runtime_error("start_event_stream: responder has no loop");
        if (r.head_written) throw std::runtime_error("start_event_stream: response already started");
        std::string extra, ctype;
        format_header_lines(headers, extra, true, &ctype);  // Content-Type is text/event-stream
        sse::StreamOptions opts;
        opts.status = status;
        opts.extra_headers = extra;
        opts.ping_interval = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(ping));
        auto s = sse::EventStream::open(r.handle, *r.loop, opts);
        r.head_written = true;
        if (!s) return nb::none();
        return nb::cast(PyEventStream{std::move(s), {}});
      },
      nb::arg("responder"), nb::arg("status"), nb::arg("headers").none(), nb::arg("ping"),
      "Starts an event stream on `responder` (Cache-Control: no-cache, X-Accel-Buffering: no) "
      "with a keep-alive comment after each quiet `ping` seconds (0 = none). None if the client "
      "is already gone.");

  m.def(
      "negotiate_encoding",
      [](std::string_view accept_encoding, const std::vector<std::string>& offered) {
        return std::string(
            compress::coding_name(compress::negotiate(accept_encoding, coding_set(offered))));
      },
      nb::arg("accept_encoding"), nb::arg("offered"),
      "The content coding to use for this Accept-Encoding value among `offered` ('zstd', 'br', "
      "'gzip'), or 'identity' (RFC 9110 §12.5.3).");
}

}  // namespace fa::py
