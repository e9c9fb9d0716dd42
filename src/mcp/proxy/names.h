// Namespacing of one proxy's upstreams: tool and prompt names become `<upstream>__<name>`,
// resource URIs and URI templates `<upstream>+<uri>` (a URI with the scheme
// `<upstream>+<scheme>`, still a valid URI, RFC 3986 §3.1). Upstream names are lower-case
// letters, digits and '-', starting with a letter, so the split is unambiguous.
#pragma once

#include <string>
#include <string_view>

namespace fa::mcp::proxy {

inline constexpr std::string_view kNameSeparator = "__";
inline constexpr char kUriSeparator = '+';

bool valid_upstream_name(std::string_view name);
std::string qualified_name(std::string_view upstream, std::string_view name);
std::string qualified_uri(std::string_view upstream, std::string_view uri);
// Splits a qualified name or URI; false when it names no upstream.
bool split_name(std::string_view qualified, std::string_view& upstream, std::string_view& name);
bool split_uri(std::string_view qualified, std::string_view& upstream, std::string_view& uri);

// Reads one page of a list result (`{"<key>":[...],"nextCursor":...}`) and appends its items to
// `items` (comma-separated JSON objects) with member `field` ("name", "uri", "uriTemplate")
// qualified for `upstream`; other members are copied as they were. `next_cursor` gets the
// page's cursor (empty on the last page). False when the result is not such an object.
bool qualify_listing(std::string_view result_json, std::string_view key, std::string_view field,
                     std::string_view upstream, bool is_uri, std::string& items,
                     std::string& next_cursor);

// Copies JSON object `json` without the top-level members named in `drop` (the 2026-07-28
// result members resultType, ttlMs, cacheScope when a modern upstream answers). Returns the
// input unchanged if it is not an object.
std::string without_members(std::string_view json, std::initializer_list<std::string_view> drop);

// completion/complete params: `ref.name` (ref/prompt) or `ref.uri` (ref/resource) unqualified
// for the upstream; every other member copied. False when the ref names no upstream.
bool unqualify_completion(std::string_view params_json, std::string& upstream,
                          std::string& members);

// The client capability a server-to-client request needs (2025-11-25 schema
// ClientCapabilities: sampling, elicitation, roots), empty for none.
std::string_view capability_for(std::string_view method);
// True when the capabilities object (raw JSON) has member `key`.
bool declares(std::string_view capabilities, std::string_view key);

}  // namespace fa::mcp::proxy
