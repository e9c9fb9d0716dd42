// Protected Resource Metadata rendering and location (RFC 9728 §2, §3).
#include "mcp/auth/resource_metadata.h"

#include <stdexcept>

#include "json/output_buffer.h"
#include "json/string_escape.h"

namespace fa::mcp::auth {
namespace {

constexpr std::string_view kWellKnown = "/.well-known/oauth-protected-resource";

struct UriParts {
  std::string_view origin;  // scheme://authority
  std::string_view path;    // "" or "/..." (query kept: RFC 9728 §3.1 allows it, rarely used)
};

UriParts split_resource(std::string_view uri) {
  std::size_t colon = uri.find("://");
  std::string_view scheme = colon == std::string_view::npos ? "" : uri.substr(0, colon);
  auto lower_equals = [](std::string_view s, std::string_view want) {
    if (s.size() != want.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if ((s[i] | 0x20) != want[i]) return false;
    }
    return true;
  };
  if (!lower_equals(scheme, "https") && !lower_equals(scheme, "http")) {
    throw std::invalid_argument("resource \"" + std::string(uri) +
                                "\" is not an absolute http(s) URI");
  }
  if (uri.find('#') != std::string_view::npos) {
    throw std::invalid_argument("resource \"" + std::string(uri) + "\" has a fragment");
  }
  std::size_t path = uri.find_first_of("/?", colon + 3);
  if (path == colon + 3 || colon + 3 == uri.size()) {
    throw std::invalid_argument("resource \"" + std::string(uri) + "\" has no host");
  }
  if (path == std::string_view::npos) path = uri.size();
  UriParts parts{uri.substr(0, path), uri.substr(path)};
  if (parts.path == "/") parts.path = {};  // https://h/ and https://h share one location
  return parts;
}

// Writes the members of one JSON object, leaving out empty ones.
class ObjectWriter {
 public:
  explicit ObjectWriter(json::OutputBuffer& out) : out_(out) { out_.put('{'); }
  ~ObjectWriter() { out_.put('}'); }

  void member(std::string_view name, std::string_view value) {
    if (value.empty()) return;
    key(name);
    json::append_json_string(out_, value);
  }
  void member(std::string_view name, const std::vector<std::string>& values) {
    if (values.empty()) return;
    key(name);
    out_.put('[');
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) out_.put(',');
      json::append_json_string(out_, values[i]);
    }
    out_.put(']');
  }

 private:
  void key(std::string_view name) {
    if (!first_) out_.put(',');
    first_ = false;
    json::append_json_string(out_, name);
    out_.put(':');
  }
  json::OutputBuffer& out_;
  bool first_ = true;
};

}  // namespace

std::string render_resource_metadata(const ResourceMetadata& m) {
  split_resource(m.resource);  // validates
  if (m.authorization_servers.empty()) {
    throw std::invalid_argument("resource metadata: name at least one authorization server");
  }
  std::string text;
  {
    json::OutputBuffer out(text);
    ObjectWriter obj(out);
    obj.member("resource", m.resource);
    obj.member("authorization_servers", m.authorization_servers);
    obj.member("scopes_supported", m.scopes_supported);
    obj.member("bearer_methods_supported", m.bearer_methods_supported);
    obj.member("resource_name", m.resource_name);
    obj.member("resource_documentation", m.resource_documentation);
  }
  return text;
}

std::string resource_metadata_url(std::string_view resource) {
  UriParts parts = split_resource(resource);
  return std::string(parts.origin) + std::string(kWellKnown) + std::string(parts.path);
}

std::string resource_metadata_path(std::string_view resource) {
  return std::string(kWellKnown) + std::string(split_resource(resource).path);
}

}  // namespace fa::mcp::auth
