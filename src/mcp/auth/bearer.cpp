// Authorization: Bearer parsing and WWW-Authenticate rendering.
#include "mcp/auth/bearer.h"

#include <strings.h>

namespace fa::mcp::auth {
namespace {

bool is_b64token_char(unsigned char c) {  // RFC 6750 §2.1 b64token, without the '=' tail
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// Appends name="value" with characters outside %x20-21 / %x23-5B / %x5D-7E replaced.
void append_param(std::string& out, std::string_view name, std::string_view value) {
  if (out.size() > 6)
    out += ", ";  // past "Bearer"
  else
    out += ' ';
  out.append(name).append("=\"");
  for (unsigned char c : value) {
    bool allowed = c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
    out.push_back(allowed ? static_cast<char>(c) : '?');
  }
  out.push_back('"');
}

}  // namespace

Checked<std::string_view> bearer_token(std::string_view h) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  h = trim(h);
  if (h.empty()) return fail(AuthError::kMissingToken, "no Authorization header");
  constexpr std::string_view kScheme = "bearer";
  if (h.size() < kScheme.size() || strncasecmp(h.data(), kScheme.data(), kScheme.size()) != 0 ||
      (h.size() > kScheme.size() && h[kScheme.size()] != ' ')) {
    return fail(AuthError::kMissingToken, "the Authorization header is not Bearer");
  }
  std::string_view token = trim(h.substr(kScheme.size()));
  std::size_t i = 0;
  while (i < token.size() && is_b64token_char(static_cast<unsigned char>(token[i]))) ++i;
  std::size_t body = i;
  while (i < token.size() && token[i] == '=') ++i;
  if (body == 0 || i != token.size()) {
    return fail(AuthError::kInvalidRequest, "the Bearer credentials are not a b64token");
  }
  return token;
}

std::string www_authenticate(const AuthFailure* failure, std::string_view resource_metadata_url,
                             std::string_view scope) {
  std::string out = "Bearer";
  if (!resource_metadata_url.empty()) append_param(out, "resource_metadata", resource_metadata_url);
  if (failure) {
    std::string_view code = oauth_error_code(failure->kind);
    if (!code.empty()) append_param(out, "error", code);
    if (!code.empty() && !failure->description.empty()) {
      append_param(out, "error_description", failure->description);
    }
  }
  if (!scope.empty()) append_param(out, "scope", scope);
  return out;
}

}  // namespace fa::mcp::auth
