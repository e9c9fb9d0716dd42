// OAuth 2.0 Protected Resource Metadata (RFC 9728): the document MCP clients fetch to find
// the authorization server, and where it is served.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fa::mcp::auth {

struct ResourceMetadata {
  std::string resource;                            // REQUIRED: the canonical URI (§2)
  std::vector<std::string> authorization_servers;  // issuer identifiers; MCP needs one or more
  std::vector<std::string> scopes_supported;       // RECOMMENDED
  std::vector<std::string> bearer_methods_supported{"header"};  // MCP: header only
  std::string resource_name;                                    // human-readable, optional
  std::string resource_documentation;                           // URL, optional
};

// The JSON document for GET /.well-known/oauth-protected-resource[/path] (RFC 9728 §3.2).
// Empty optional members are left out. Throws std::invalid_argument when resource is not an
// absolute http(s) URI without a fragment (§2, RFC 8707 §2) or no authorization server is
// named (MCP: "MUST include the authorization_servers field containing at least one").
std::string render_resource_metadata(const ResourceMetadata& metadata);

// Where the metadata of `resource` is served (RFC 9728 §3.1): the well-known segment goes
// between host and path, e.g. https://h/mcp -> https://h/.well-known/oauth-protected-resource/mcp.
// Throws std::invalid_argument as render_resource_metadata does for a bad resource.
std::string resource_metadata_url(std::string_view resource);

// The path part of resource_metadata_url(resource), for routing: "/.well-known/...".
std::string resource_metadata_path(std::string_view resource);

}  // namespace fa::mcp::auth
