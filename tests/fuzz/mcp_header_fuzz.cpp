// libFuzzer target: 2026-07-28 mirrored-header validation (src/mcp/header_check.h) on arbitrary
// bytes. The input's first line is every header's value (Mcp-Method, Mcp-Name, Mcp-Param-*,
// MCP-Protocol-Version), the rest a JSON-RPC message: must never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/header_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view value = input.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  std::string decoded;
  fa::mcp::decode_header_value(value, decoded);

  static fa::mcp::Parser parser, aux;
  fa::mcp::Message msg;
  fa::mcp::ParseFailure failure;
  if (!parser.parse(body, msg, failure)) return 0;
  fa::mcp::HeaderLookup lookup = [&](std::string_view) { return value; };
  static const std::vector<fa::mcp::ParamHeader> params = {{"region", "region"}, {"n", "count"}};
  fa::mcp::check_version_header(msg, lookup);
  fa::mcp::check_mirrored_headers(msg, lookup, params, aux);
  return 0;
}
