// Responder bindings.
#include "py_responder.h"

#include <nanobind/stl/function.h>
#include <nanobind/stl/string.h>

#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "http/ascii.h"
#include "http/file_body.h"
#include "py_fast_answer.h"

namespace nb = nanobind;

namespace fa::py {

namespace {

std::string_view as_bytes_view(nb::handle h, const char* what) {
  if (PyBytes_Check(h.ptr())) {
    return {PyBytes_AS_STRING(h.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(h.ptr()))};
  }
  if (PyUnicode_Check(h.ptr())) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
    if (!s) throw nb::python_error();
    return {s, static_cast<size_t>(n)};
  }
  throw nb::type_error((std::string(what) + " must be str or bytes").c_str());
}

bool has_forbidden(std::string_view v) {
  for (char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return true;
  return false;
}

void check_status(int status) {
  if (status < 100 || status > 999) throw nb::value_error("status must be in 100..999");
}

std::string body_bytes(nb::handle body) {
  if (body.is_none()) return {};
  if (PyBytes_Check(body.ptr()) || PyUnicode_Check(body.ptr())) {
    auto v = as_bytes_view(body, "body");
    return std::string(v);
  }
  if (PyByteArray_Check(body.ptr()) || PyMemoryView_Check(body.ptr())) {
    Py_buffer buf;
    if (PyObject_GetBuffer(body.ptr(), &buf, PyBUF_SIMPLE) < 0) throw nb::python_error();
    std::string out(static_cast<const char*>(buf.buf), static_cast<size_t>(buf.len));
    PyBuffer_Release(&buf);
    return out;
  }
  throw nb::type_error("body must be bytes, str or None");
}

}  // namespace

void format_header_lines(nb::handle headers, std::string& out, bool drop_framing,
                         std::string* content_type) {
  if (headers.is_none()) return;
  for (nb::handle item : headers) {
    nb::handle name = item[0];
    nb::handle value = item[1];
    auto n = as_bytes_view(name, "header name");
    auto v = as_bytes_view(value, "header value");
    if (n.empty() || has_forbidden(n) || has_forbidden(v) || n.find(':') != std::string_view::npos)
      throw nb::value_error("invalid header: names and values must not contain CR, LF or NUL");
    using http::ascii_iequals;
    if (drop_framing && (ascii_iequals(n, "content-length") ||
                         ascii_iequals(n, "transfer-encoding") || ascii_iequals(n, "connection")))
      continue;
    if (content_type && ascii_iequals(n, "content-type")) {
      content_type->assign(v);
      continue;
    }
    out.append(n).append(": ").append(v).append("\r\n");
  }
}

void register_responder(nb::module_& m) {
  nb::class_<Responder>(m, "Responder", "Finishes one HTTP exchange (async handlers, streaming).")
      .def(
          "send",
          [](Responder& r, int status, nb::handle headers, nb::handle body) {
            check_status(status);
            std::string extra, ctype;
            format_header_lines(headers, extra, true, &ctype);
            std::string b = body_bytes(body);
            if (r.head_written) throw std::runtime_error("Responder.send: response already started");
            bool ok = r.handle.send(http::ResponseHead{status, ctype, extra}, b);
            r.head_written = true;
            return ok;
          },
          nb::arg("status"), nb::arg("headers"), nb::arg("body").none(),
          "Sends a complete response. Returns False if the client is gone.")
      .def(
          "send_result",
          [](Responder& r, nb::handle result, nb::handle res) {
            AnswerBuffers buf;
            http::ResponseHead head;
            std::string_view body;
            switch (fast_answer(result.ptr(), res.ptr(), buf, head, body)) {
              case FastAnswer::kNotFast:
                return false;
              case FastAnswer::kFailed:
                throw nb::python_error();
              case FastAnswer::kReady:
                break;
            }
            if (r.head_written)
              throw std::runtime_error("Responder.send_result: response already started");
            r.handle.send(head, body);
            r.head_written = true;
            return true;
          },
          nb::arg("result"), nb::arg("res"),
          "Answers a handler's return value as the engine answers one returned at once (a "
          "dict, list, str, bytes, None or JSONBody, `res` with no media_type or background "
          "tasks): True when answered (the client may be gone), False when render() must take "
          "it. Raises what encoding raised (TypeError: a value render() can retry).")
      .def(
          "start",
          [](Responder& r, int status, nb::handle headers) {
            check_status(status);
            std::string extra, ctype;
            // Keep a Content-Length the application set: then the body is not chunked.
            format_header_lines(headers, extra, false, &ctype);
            if (r.head_written) throw std::runtime_error("Responder.start: response already started");
            bool ok = r.handle.start(http::ResponseHead{status, ctype, extra});
            r.head_written = true;
            return ok;
          },
          nb::arg("status"), nb::arg("headers"),
          "Starts a streamed response (chunked unless a content-length header is given).")
      .def(
          "write",
          [](Responder& r, nb::handle data) {
            std::string b = body_bytes(data);
            return r.handle.write(b);
          },
          nb::arg("data"),
          "Writes one chunk. Returns False when the client is gone or output is over the "
          "high-water mark (then wait for on_drain).")
      .def(
          "end", [](Responder& r) { return r.handle.end(); }, "Finishes a streamed response.")
      .def(
          "send_file",
          [](Responder& r, int status, nb::handle headers, int fd, nb::handle parts,
             bool head_only) {
            check_status(status);
            std::string extra, ctype;
            format_header_lines(headers, extra, true, &ctype);  // Content-Length is ours
            std::vector<http::BodyPart> body;
            for (nb::handle part : parts) {
              if (PyTuple_Check(part.ptr())) {
                auto off = nb::cast<long long>(part[0]);
                auto len = nb::cast<long long>(part[1]);
                if (off < 0 || len < 0) throw nb::value_error("file span must not be negative");
                body.push_back(http::BodyPart::span(static_cast<uint64_t>(off),
                                                    static_cast<uint64_t>(len)));
              } else {
                body.push_back(http::BodyPart::text(body_bytes(part)));
              }
            }
            if (r.head_written)
              throw std::runtime_error("Responder.send_file: response already started");
            // Our own descriptor: the caller's file object may close its own at once.
            int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
            if (own < 0) throw nb::value_error("send_file: fd is not an open file");
            auto file = std::make_shared<const FileDescriptor>(own);
            r.head_written = true;
            return http::send_file_body(r.handle, http::ResponseHead{status, ctype, extra},
                                        std::move(file), std::move(body), head_only);
          },
          nb::arg("status"), nb::arg("headers"), nb::arg("fd"), nb::arg("parts"),
          nb::arg("head_only") = false,
          "Sends a response whose body is `parts` (bytes, or (offset, length) spans of file "
          "`fd`, sent with sendfile(2) on HTTP/1.1), with Content-Length, and ends it.")
      .def(
          "on_drain",
          [](Responder& r, nb::object fn) {
            // A copy (not a move): if the handle is no longer live the callback is dropped
            // unused and fn must still be callable below.
            bool ok = r.handle.on_drain([fn]() {
              nb::gil_scoped_acquire gil;
              try {
                fn();
              } catch (nb::python_error& e) {
                e.restore();
                PyErr_WriteUnraisable(fn.ptr());
              }
            });
            if (!ok) fn();  // already drained or gone: wake the caller now
          },
          nb::arg("fn"), "Calls fn() once when output drains or the connection closes.")
      .def(
          "abort", [](Responder& r) { return r.handle.abort(); }, "Closes the connection now.")
      .def_prop_ro("closed", [](Responder& r) { return r.handle.client_gone(); },
                   "True once the client has gone.")
      .def_prop_ro("open", [](Responder& r) { return r.handle.alive(); },
                   "True until the response is finished.");
}

}  // namespace fa::py
