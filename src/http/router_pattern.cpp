// Route pattern parser (see router_pattern.h).
#include "http/router_pattern.h"

#include <algorithm>

#include "http/router.h"

namespace fa::http {
namespace {

[[noreturn]] void fail(std::string_view pattern, std::string_view why) {
  throw RouteError("invalid route pattern '" + std::string(pattern) + "': " + std::string(why));
}

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

// Bytes that can never appear in a request path as the parser hands it over: the query and
// fragment delimiters (RFC 3986 §3.3) and whitespace/control bytes.
bool is_forbidden_static(char c) {
  const auto u = static_cast<unsigned char>(c);
  return c == '?' || c == '#' || u <= 0x20 || u == 0x7f;
}

PieceKind kind_of(std::string_view pattern, std::string_view type) {
  if (type.empty() || type == "str") return PieceKind::kStr;
  if (type == "int") return PieceKind::kInt;
  if (type == "path") return PieceKind::kPath;
  fail(pattern, "unknown parameter type '" + std::string(type) + "' (use str, int or path)");
}

}  // namespace

std::vector<PatternPiece> parse_route_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') fail(pattern, "it must start with '/'");

  std::vector<PatternPiece> pieces;
  std::vector<std::string_view> names;
  size_t pos = 1;  // start of the current segment (just after its '/')
  for (;;) {
    const size_t slash = pattern.find('/', pos);
    const size_t end = slash == std::string_view::npos ? pattern.size() : slash;
    const std::string_view seg = pattern.substr(pos, end - pos);

    const bool has_open = seg.find('{') != std::string_view::npos;
    const bool has_close = seg.find('}') != std::string_view::npos;
    if (!has_open && !has_close) {
      for (char c : seg) {
        if (is_forbidden_static(c))
          fail(pattern, "it contains '?', '#', a space or a control byte");
      }
      pieces.push_back({PieceKind::kStatic, std::string(seg)});
    } else {
      if (seg.front() == '{' && !has_close) fail(pattern, "unclosed '{'");
      if (seg.front() != '{' || seg.back() != '}' || std::count(seg.begin(), seg.end(), '{') != 1 ||
          std::count(seg.begin(), seg.end(), '}') != 1) {
        fail(pattern, "a parameter must be a whole path segment, as in /items/{id}");
      }
      const std::string_view inner = seg.substr(1, seg.size() - 2);
      const size_t colon = inner.find(':');
      const std::string_view name = inner.substr(0, colon);
      const std::string_view type =
          colon == std::string_view::npos ? std::string_view() : inner.substr(colon + 1);
      if (name.empty()) fail(pattern, "empty parameter name");
      if (colon != std::string_view::npos && type.empty()) fail(pattern, "empty parameter type");
      if (!is_name_start(name.front()) || !std::all_of(name.begin(), name.end(), is_name_char)) {
        fail(pattern, "parameter name '" + std::string(name) + "' is not an identifier");
      }
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        fail(pattern, "parameter '" + std::string(name) + "' appears twice");
      }
      const PieceKind kind = kind_of(pattern, type);
      if (kind == PieceKind::kPath && end != pattern.size()) {
        fail(pattern, "a {name:path} parameter must be the last segment");
      }
      names.push_back(name);
      if (names.size() > kMaxRouteParams) {
        fail(pattern, "more than " + std::to_string(kMaxRouteParams) + " parameters");
      }
      pieces.push_back({kind, std::string(name)});
    }
    if (end == pattern.size()) break;
    pos = end + 1;
  }
  return pieces;
}

}  // namespace fa::http
