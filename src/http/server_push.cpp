// HTTP/2 server push from a handler (RFC 9113 §8.4): the path is checked here, the promise and
// the pushed stream are the exchange's protocol's (H2Protocol::push; HTTP/1.1 has none).
#include <string_view>

#include "http/connection.h"
#include "http/response.h"

namespace fa::http {

namespace {

// The promised request's :path (RFC 9113 §8.3.1): origin-form, so it starts with '/' and is
// visible ASCII (RFC 9112 §3.2.1's request-target has no spaces or controls). An absolute URL
// would promise another authority, which the pushing server is not for (§8.4).
bool push_path_ok(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  for (char c : path)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  return true;
}

}  // namespace

bool Response::push(std::string_view path) {
  return push_path_ok(path) && proto_.push(conn_, serial_, path);
}

bool ResponseHandle::push(std::string_view path) const {
  auto c = conn_.lock();
  return c && !c->closed() && push_path_ok(path) && proto_->push(*c, serial_, path);
}

}  // namespace fa::http
