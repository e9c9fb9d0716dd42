// fasterapi._native.Responder: finishes one exchange from Python (async handlers, Response
// objects, streaming). Every method is a no-op returning False once the exchange is over.
#pragma once

#include <nanobind/nanobind.h>

#include <string>

#include "core/event_loop.h"
#include "http/response.h"

namespace fa::py {

struct Responder {
  http::ResponseHandle handle;
  bool head_written = false;
  EventLoop* loop = nullptr;  // the engine's loop (timers for event streams)
};

// Formats [(name, value)] (str or bytes) as "Name: value\r\n" lines into `out`; skips
// Content-Length/Transfer-Encoding/Connection when `drop_framing` (the engine frames the body).
// Raises ValueError for CR, LF or NUL in a name or value (header injection).
void format_header_lines(nanobind::handle headers, std::string& out, bool drop_framing,
                         std::string* content_type);

void register_responder(nanobind::module_& m);

}  // namespace fa::py
