// Mirrored-header validation for 2026-07-28 Streamable HTTP requests (basic/transports/
// streamable-http.mdx "Standard Request Headers", "Custom Headers", "Server Validation"):
// Mcp-Method, Mcp-Name and Mcp-Param-{Name} must match the body they mirror, or the request is
// refused with 400 and HeaderMismatch (-32020). No I/O: headers come through a lookup.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "mcp/jsonrpc.h"

namespace fa::mcp {

inline constexpr int kHeaderMismatch = -32020;

// Value of a request header by lower-case name; empty when absent.
using HeaderLookup = std::function<std::string_view(std::string_view)>;

// A tool argument mirrored into a header by its inputSchema's x-mcp-header annotation.
struct ParamHeader {
  std::string header;    // the Name of Mcp-Param-{Name}, lower-case
  std::string property;  // the argument it mirrors
};

// Decodes a header value: optional whitespace trimmed (RFC 9110 §5.5), the Base64 sentinel
// `=?base64?...?=` decoded. False when the value holds bytes a field value may not carry or a
// malformed sentinel.
bool decode_header_value(std::string_view raw, std::string& out);

// Returns an empty string when MCP-Protocol-Version names the version `msg`'s _meta names,
// else why not (the header is required on 2026-07-28 requests).
std::string check_version_header(const Message& msg, const HeaderLookup& header);

// Returns an empty string when the headers match `msg`, else why not. `params` are the called
// tool's mirrored arguments (tools/call only). `aux` reads the arguments.
std::string check_mirrored_headers(const Message& msg, const HeaderLookup& header,
                                   std::span<const ParamHeader> params, Parser& aux);

}  // namespace fa::mcp
