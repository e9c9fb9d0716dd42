// Opening handshake checks and the 101 response (RFC 6455 §4.2.1-4.2.2).
#include "ws/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "http/ascii.h"

namespace fa::ws {

namespace {
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // §1.3

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated header value list contains `token` (case-insensitive).
bool has_token(const http::RequestHead& head, std::string_view name, std::string_view token) {
  for (size_t i = 0; i < head.num_headers; ++i) {
    if (!http::ascii_iequals(head.headers[i].name, name)) continue;
    std::string_view v = head.headers[i].value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      if (http::ascii_iequals(trim(v.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// §4.2.1 item 5: base64 of 16 bytes is 22 characters and "==".
bool valid_key(std::string_view k) {
  if (k.size() != 24 || k[22] != '=' || k[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i)
    if (!base64_char(k[i])) return false;
  return true;
}

bool header_safe(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}
}  // namespace

HandshakeCheck check_handshake(const http::RequestHead& head) {
  if (!has_token(head, "upgrade", "websocket")) return {426, "WebSocket upgrade required", {}};
  if (!has_token(head, "connection", "upgrade")) return {426, "Connection: upgrade required", {}};
  if (head.version_minor < 1) return {400, "WebSocket needs HTTP/1.1", {}};
  if (head.header("host").empty()) return {400, "missing Host", {}};
  if (trim(head.header("sec-websocket-version")) != "13")
    return {426, "unsupported Sec-WebSocket-Version", {}};
  std::string_view key = trim(head.header("sec-websocket-key"));
  if (!valid_key(key)) return {400, "missing or malformed Sec-WebSocket-Key", {}};
  return {0, {}, key};
}

bool is_extended_connect(const http::RequestHead& head) {
  return head.method_id == http::Method::kConnect && head.version_major == 2;
}

HandshakeCheck check_h2_handshake(const http::RequestHead& head) {
  // RFC 8441 §5: :protocol websocket (H2Protocol routes only those here), the version as in
  // RFC 6455, no key (the stream, not a nonce, ties the answer to the request).
  if (!head.header("sec-websocket-key").empty())
    return {400, "Sec-WebSocket-Key is not used over HTTP/2 (RFC 8441 section 5)", {}};
  if (trim(head.header("sec-websocket-version")) != "13")
    return {426, "unsupported Sec-WebSocket-Version", {}};
  return {0, {}, {}};
}

std::string accept_key(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kGuid.size());
  input.append(key).append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

std::string joined_header(const http::RequestHead& head, std::string_view name) {
  std::string out;
  for (size_t i = 0; i < head.num_headers; ++i) {
    if (!http::ascii_iequals(head.headers[i].name, name)) continue;
    if (!out.empty()) out += ", ";
    out.append(head.headers[i].value);
  }
  return out;
}

std::vector<std::string> requested_subprotocols(const http::RequestHead& head) {
  std::vector<std::string> out;
  std::string all = joined_header(head, "sec-websocket-protocol");
  std::string_view v = all;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view t = trim(v.substr(0, comma));
    if (!t.empty()) out.emplace_back(t);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

std::string switching_protocols_head(
    std::string_view accept, std::string_view subprotocol, std::string_view extensions,
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string out;
  out.reserve(160);
  out.append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
  out.append("Sec-WebSocket-Accept: ").append(accept).append("\r\n");
  if (!subprotocol.empty() && header_safe(subprotocol))
    out.append("Sec-WebSocket-Protocol: ").append(subprotocol).append("\r\n");
  if (!extensions.empty())
    out.append("Sec-WebSocket-Extensions: ").append(extensions).append("\r\n");
  for (const auto& [name, value] : extra) {
    if (name.empty() || !header_safe(name) || !header_safe(value) ||
        name.find(':') != std::string::npos)
      continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
  out.append("\r\n");
  return out;
}

std::string tunnel_response_fields(std::string_view subprotocol, std::string_view extensions,
                                   const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string out;
  if (!subprotocol.empty() && header_safe(subprotocol))
    out.append("Sec-WebSocket-Protocol: ").append(subprotocol).append("\r\n");
  if (!extensions.empty())
    out.append("Sec-WebSocket-Extensions: ").append(extensions).append("\r\n");
  for (const auto& [name, value] : extra) {
    if (name.empty() || !header_safe(name) || !header_safe(value) ||
        name.find(':') != std::string::npos)
      continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
  return out;
}

}  // namespace fa::ws
