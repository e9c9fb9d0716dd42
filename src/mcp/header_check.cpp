// Mirrored-header validation (2026-07-28 basic/transports/streamable-http.mdx).
#include "mcp/header_check.h"

#include <charconv>

#include "mcp/auth/base64url.h"

namespace fa::mcp {

namespace {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 §5.5 field-value: visible ASCII, space and tab; MCP values are ASCII (non-ASCII goes
// through the Base64 sentinel, "Value Encoding").
bool plain_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c != '\t' && (c < 0x20 || c > 0x7e)) return false;
  return true;
}

bool numbers_equal(std::string_view a, std::string_view b) {
  double x = 0, y = 0;
  auto [ea, eca] = std::from_chars(a.data(), a.data() + a.size(), x);
  auto [eb, ecb] = std::from_chars(b.data(), b.data() + b.size(), y);
  return eca == std::errc() && ecb == std::errc() && ea == a.data() + a.size() &&
         eb == b.data() + b.size() && x == y;
}

std::string mismatch(std::string_view header, std::string_view why) {
  std::string out = "Header mismatch: ";
  out += header;
  out += ' ';
  out += why;
  return out;
}

}  // namespace

bool decode_header_value(std::string_view raw, std::string& out) {
  if (!plain_ascii(raw)) return false;
  std::string_view v = trim_ows(raw);
  constexpr std::string_view kOpen = "=?base64?", kClose = "?=";
  // Without both markers a value is literal ("=?base64?SGVsbG8=" is just text).
  if (v.starts_with(kOpen) && v.ends_with(kClose) && v.size() >= kOpen.size() + kClose.size()) {
    std::string b64(v.substr(kOpen.size(), v.size() - kOpen.size() - kClose.size()));
    if (b64.size() % 4 != 0) return false;  // RFC 4648 §4: padded to a multiple of 4
    size_t pad = 0;
    while (!b64.empty() && b64.back() == '=') {
      b64.pop_back();
      ++pad;
    }
    if (pad > 2) return false;
    for (char& c : b64) {  // standard alphabet (RFC 4648 §4) onto base64url's
      if (c == '+')
        c = '-';
      else if (c == '/')
        c = '_';
      else if (c == '-' || c == '_')
        return false;
    }
    auto decoded = auth::base64url_decode(b64);
    if (!decoded) return false;
    out = std::move(*decoded);
    return true;
  }
  out.assign(v);
  return true;
}

std::string check_version_header(const Message& msg, const HeaderLookup& header) {
  std::string_view version = trim_ows(header("mcp-protocol-version"));
  if (version.empty()) return mismatch("MCP-Protocol-Version", "is missing");
  if (version != msg.known.meta_version)
    return mismatch("MCP-Protocol-Version", "does not match _meta's protocol version");
  return {};
}

std::string check_mirrored_headers(const Message& msg, const HeaderLookup& header,
                                   std::span<const ParamHeader> params, Parser& aux) {
  std::string value;
  std::string_view method = header("mcp-method");
  if (method.empty()) return mismatch("Mcp-Method", "is missing");
  if (!decode_header_value(method, value))
    return mismatch("Mcp-Method", "holds invalid characters");
  if (value != msg.method) return mismatch("Mcp-Method", "does not match the body's method");

  const bool by_name = msg.method == "tools/call" || msg.method == "prompts/get";
  const bool by_uri = msg.method == "resources/read";
  // SEP-2663 "Streamable HTTP: Routing Headers": the tasks methods carry Mcp-Name: <taskId>.
  const bool by_task = msg.method == "tasks/get" || msg.method == "tasks/update" || msg.method == "tasks/cancel";
  if (by_name || by_uri || by_task) {
    std::string_view name = header("mcp-name");
    std::string_view body = by_name ? msg.known.name : by_uri ? msg.known.uri : msg.known.task_id;
    if (name.empty()) return mismatch("Mcp-Name", "is missing");
    if (!decode_header_value(name, value)) return mismatch("Mcp-Name", "holds invalid characters");
    if (value != body)
      return mismatch("Mcp-Name", "does not match the body's " +
                                      std::string(by_name ? "name" : by_uri ? "uri" : "taskId"));
  }

  if (params.empty()) return {};
  // Copied: aux's views die with its next call, and arguments may be read several times.
  const std::string arguments(msg.known.arguments);
  for (const ParamHeader& p : params) {
    std::string name = "mcp-param-" + p.header;
    std::string_view raw_header = header(name);
    std::string shown = "Mcp-Param-" + p.header;
    std::string raw_body(aux.raw_member(arguments, p.property));
    const bool in_body = !raw_body.empty() && raw_body != "null";
    if (raw_header.empty()) {
      if (in_body) return mismatch(shown, "is missing");
      continue;
    }
    if (!decode_header_value(raw_header, value)) return mismatch(shown, "holds invalid characters");
    if (!in_body) return mismatch(shown, "has no value in the body");
    bool equal;
    if (raw_body.front() == '"') {
      std::string_view s;
      equal = aux.string_member(arguments, p.property, s) && s == value;
    } else if (raw_body == "true" || raw_body == "false") {
      equal = raw_body == value;
    } else {
      equal = numbers_equal(raw_body, value);  // "SHOULD compare numerically" (42.0 == 42)
    }
    if (!equal) return mismatch(shown, "does not match the body's value");
  }
  return {};
}

}  // namespace fa::mcp
