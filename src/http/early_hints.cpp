// 103 Early Hints (RFC 8297) from a handler: the Link fields formatted once, then sent by the
// exchange's protocol as an interim response (H1Protocol / H2Protocol::informational).
#include <string>

#include "http/connection.h"
#include "http/response.h"

namespace fa::http {

namespace {

// "Link: <value>\r\n" per value. False for no values, or a value that would end the field or
// the head early (CR, LF; NUL is refused by HTTP/2 as well, RFC 9113 §8.2.1).
bool link_lines(std::span<const std::string_view> links, std::string& out) {
  if (links.empty()) return false;
  for (std::string_view v : links) {
    if (v.empty() || v.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
      return false;
    out.append("Link: ").append(v).append("\r\n");
  }
  return true;
}

constexpr int kEarlyHints = 103;

}  // namespace

bool Response::early_hints(std::span<const std::string_view> links) {
  std::string lines;
  return link_lines(links, lines) && proto_.informational(conn_, serial_, kEarlyHints, lines);
}

bool ResponseHandle::early_hints(std::span<const std::string_view> links) const {
  auto c = conn_.lock();
  std::string lines;
  return c && !c->closed() && link_lines(links, lines) &&
         proto_->informational(*c, serial_, kEarlyHints, lines);
}

}  // namespace fa::http
