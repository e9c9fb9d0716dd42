// Request: what a handler sees of one HTTP request: views into the connection's buffer, valid
// until the response completes.
#pragma once

#include <string_view>

#include "http/h1_parser.h"
#include "http/router.h"

namespace fa::http {

struct Peer;

struct Request {
  const RequestHead& head;
  const RouteMatch& route;
  std::string_view body;  // complete (Content-Length or de-chunked)
  const Peer& peer;
  // The body is not in `body`: the handler reads it with ResponseHandle::read_body (a
  // streaming route and a body past kStreamBodyThreshold or chunked). The views above are
  // valid only during the handler call then.
  bool body_streamed = false;

  std::string_view method() const { return head.method; }
  std::string_view path() const { return head.path; }
  std::string_view query() const { return head.query; }
  std::string_view header(std::string_view name) const { return head.header(name); }
  // Raw (not percent-decoded) value of a path parameter; empty if absent.
  std::string_view param(std::string_view name) const {
    for (size_t i = 0; i < route.num_params; ++i)
      if (route.params[i].name == name) return route.params[i].value;
    return {};
  }
};

}  // namespace fa::http
