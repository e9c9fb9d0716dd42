// McpReply bindings: results encoded by our JSON encoder, errors, progress and log messages.
#include "py_reply.h"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <cmath>
#include <optional>
#include <string>

#include "json_encode.h"

namespace nb = nanobind;

namespace fa::py {

namespace {
std::string encode(nb::handle obj) {
  std::string out;
  if (!json_encode(obj.ptr(), out)) throw nb::python_error();
  return out;
}
}  // namespace

void register_mcp_reply(nb::module_& m) {
  nb::class_<PyReply>(m, "McpReply", "Answers one MCP request; every method returns False once it "
                                     "was answered or cancelled or its client is gone.")
      .def("result", [](PyReply& r, nb::handle result) { return r.reply.result(encode(result)); },
           nb::arg("result"), "Sends the result object (JSON-encoded in C++).")
      .def("error",
           [](PyReply& r, int code, const std::string& message, nb::handle data) {
             return r.reply.error(code, message, data.is_none() ? std::string() : encode(data));
           },
           nb::arg("code"), nb::arg("message"), nb::arg("data") = nb::none(),
           "Sends a JSON-RPC error.")
      .def("progress",
           [](PyReply& r, double progress, std::optional<double> total, std::optional<std::string> message) {
             return r.reply.progress(progress, total ? *total : -1.0, message ? *message : std::string());
           },
           nb::arg("progress"), nb::arg("total") = nb::none(), nb::arg("message") = nb::none(),
           "notifications/progress, when the request carried a progressToken.")
      .def("log",
           [](PyReply& r, const std::string& level, nb::handle data, std::optional<std::string> logger) {
             mcp::LogLevel parsed;
             if (!mcp::parse_log_level(level, parsed)) throw nb::value_error("unknown MCP log level");
             return r.reply.log(parsed, logger ? *logger : std::string(), encode(data));
           },
           nb::arg("level"), nb::arg("data"), nb::arg("logger") = nb::none(),
           "notifications/message, if the level passes the client's logging/setLevel.")
      .def("request",
           [](PyReply& r, const std::string& method, nb::handle params) {
             return r.reply.request(method, params.is_none() ? std::string() : encode(params));
           },
           nb::arg("method"), nb::arg("params") = nb::none(),
           "Sends the client a request tied to this one; returns its number (0: not sent).")
      .def("close_stream", [](PyReply& r) { r.reply.close_stream(); },
           "Ends the request's SSE stream; the client resumes it with Last-Event-ID.")
      .def_prop_ro("client_capabilities",
                   [](PyReply& r) { return std::string(r.reply.client_capabilities()); },
                   "The client's capabilities from initialize (raw JSON), empty when unknown.")
      .def_prop_ro("params", [](PyReply& r) { return std::string(r.reply.params()); },
                   "2026-07-28 requests: the raw params; empty otherwise.")
      .def_prop_ro("modern", [](PyReply& r) { return r.reply.modern(); })
      .def_prop_ro("auth_claims", [](PyReply& r) { return std::string(r.reply.auth_claims()); },
                   "The verified bearer token's claims (raw JSON); empty without auth.")
      .def_prop_ro("active", [](PyReply& r) { return r.reply.active(); })
      .def_prop_ro("tasks_allowed", [](PyReply& r) { return r.reply.tasks_allowed(); },
                   "True when this call may become a task (SEP-2663: a 2026-07-28 tools/call that "
                   "declared io.modelcontextprotocol/tasks).")
      .def("create_task",
           [](PyReply& r, int64_t ttl_ms, int64_t poll_interval_ms) {
             return r.reply.create_task(ttl_ms, poll_interval_ms);
           },
           nb::arg("ttl_ms"), nb::arg("poll_interval_ms"),
           "Answers with a CreateTaskResult; result/error/request then fill the task in. "
           "Returns the task id ('' when not allowed).")
      .def_prop_ro("in_task", [](PyReply& r) { return r.reply.in_task(); })
      .def_prop_ro("task_id", [](PyReply& r) { return std::string(r.reply.task_id()); })
      .def("task_status", [](PyReply& r, const std::string& message) { return r.reply.task_status(message); },
           nb::arg("message"), "Sets the task's statusMessage.")
      .def_prop_ro("call_id", [](PyReply& r) { return r.reply.call_id(); })
      .def_prop_ro("request_id", [](PyReply& r) { return std::string(r.reply.id()); },
                   "The request's id as its raw JSON token.");
}

}  // namespace fa::py
