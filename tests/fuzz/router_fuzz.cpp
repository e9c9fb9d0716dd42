// libFuzzer target for the router: random patterns and random paths must never crash, and a
// match must be consistent: its parameters lie inside the path, and substituting them into the
// matched pattern rebuilds the path exactly.
//
// Input: lines. "R<m><pattern>" registers <pattern> for method <m> ('G' GET, 'P' POST, '*' any,
// anything else PURGE); any other line "<m><path>" looks <path> up with method <m> (same letters,
// 'H' HEAD).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/router.h"

namespace {

using fa::http::Method;
using fa::http::RouteMatch;
using fa::http::Router;
using fa::http::RouteStatus;

void require(bool ok) {
  if (!ok) std::abort();
}

std::string_view method_token(char m) {
  switch (m) {
    case 'G':
      return "GET";
    case 'P':
      return "POST";
    case 'H':
      return "HEAD";
    case '*':
      return "*";
    default:
      return "PURGE";
  }
}

Method method_id(std::string_view token) {
  if (token == "GET") return Method::kGet;
  if (token == "POST") return Method::kPost;
  if (token == "HEAD") return Method::kHead;
  return Method::kOther;
}

// The matched pattern with each {..} segment replaced by its parameter's value.
bool rebuilds_path(const RouteMatch& m, std::string_view path) {
  std::string_view pattern = m.pattern;
  size_t param = 0;
  size_t at = 0;  // bytes of `path` accounted for
  while (!pattern.empty()) {
    const size_t open = pattern.find('{');
    const std::string_view literal = pattern.substr(0, open);
    if (path.substr(at, literal.size()) != literal) return false;
    at += literal.size();
    if (open == std::string_view::npos) break;
    if (param >= m.num_params) return false;
    const std::string_view value = m.params[param++].value;
    if (path.substr(at, value.size()) != value) return false;
    at += value.size();
    pattern.remove_prefix(pattern.find('}', open) + 1);
  }
  return at == path.size() && param == m.num_params;
}

void check(const RouteMatch& m, std::string_view path) {
  require(m.num_params <= fa::http::kMaxRouteParams);
  if (m.status != RouteStatus::kFound) {
    require(m.num_params == 0);
    if (m.status == RouteStatus::kMethodNotAllowed) require(!m.allow.empty());
    return;
  }
  for (size_t i = 0; i < m.num_params; ++i) {
    const std::string_view v = m.params[i].value;
    require(!m.params[i].name.empty());
    require(v.data() >= path.data() && v.data() + v.size() <= path.data() + path.size());
  }
  require(rebuilds_path(m, path));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Router router;
  RouteMatch m;
  uint32_t next_id = 0;
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    if (line.size() >= 2 && line[0] == 'R') {
      try {
        router.add(method_token(line[1]), line.substr(2), next_id++);
      } catch (const fa::http::RouteError&) {
      }
    } else if (!line.empty()) {
      const std::string_view token = method_token(line[0]);
      const std::string_view path = line.substr(1);
      router.find(method_id(token), token, path, m);
      check(m, path);
    }
  }
  return 0;
}
