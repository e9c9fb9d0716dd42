// h2c upgrade request parsing (RFC 7540 §3.2, §3.2.1).
#include "h2/h2c_upgrade.h"

#include "http/ascii.h"

namespace fa::h2 {

namespace {

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Whether the comma-separated list `value` (RFC 9110 §5.6.1) holds `token`, ignoring case.
bool list_has(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (http::ascii_iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// Fields that describe the HTTP/1.1 connection or the upgrade itself, not the request: they
// are not carried into HTTP/2 (RFC 9113 §8.2.2).
bool hop_by_hop(std::string_view lower) {
  return lower == "connection" || lower == "upgrade" || lower == "http2-settings" ||
         lower == "keep-alive" || lower == "proxy-connection" || lower == "transfer-encoding" ||
         lower == "host";
}

uint32_t be32(std::string_view p) {
  return static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8 | static_cast<uint8_t>(p[3]);
}

}  // namespace

bool decode_base64url(std::string_view in, std::string& out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;  // 6 bits cannot end an octet
  out.clear();
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = base64url_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

bool valid_settings_payload(std::string_view payload) {
  if (payload.size() % 6 != 0) return false;  // RFC 9113 §6.5: FRAME_SIZE_ERROR otherwise
  for (size_t i = 0; i < payload.size(); i += 6) {
    uint16_t id = static_cast<uint16_t>(static_cast<uint8_t>(payload[i]) << 8 |
                                        static_cast<uint8_t>(payload[i + 1]));
    uint32_t value = be32(payload.substr(i + 2, 4));
    if (id == 0x2 && value > 1) return false;            // SETTINGS_ENABLE_PUSH
    if (id == 0x4 && value > 0x7fffffffu) return false;  // SETTINGS_INITIAL_WINDOW_SIZE
    if (id == 0x5 && (value < 16384 || value > 0xffffffu)) return false;  // MAX_FRAME_SIZE
  }
  return true;
}

bool parse_h2c_upgrade(const http::RequestHead& head, H2cRequest& out) {
  if (!head.upgrade || head.has_body()) return false;
  bool wants_h2c = false, settings_named = false;
  int settings_fields = 0;
  std::string_view settings, host;
  for (size_t i = 0; i < head.num_headers; ++i) {
    const http::Header& h = head.headers[i];
    if (http::ascii_iequals(h.name, "upgrade")) {
      wants_h2c |= list_has(h.value, "h2c");
    } else if (http::ascii_iequals(h.name, "connection")) {
      settings_named |= list_has(h.value, "http2-settings");
    } else if (http::ascii_iequals(h.name, "http2-settings")) {
      ++settings_fields;
      settings = h.value;
    } else if (http::ascii_iequals(h.name, "host")) {
      host = h.value;
    }
  }
  // §3.2.1: no upgrade unless exactly one HTTP2-Settings, named as a connection option.
  if (!wants_h2c || !settings_named || settings_fields != 1) return false;
  if (!decode_base64url(settings, out.settings) || !valid_settings_payload(out.settings))
    return false;
  out.method = head.method;
  out.target = head.target;
  out.authority = host;  // §8.3.1: :authority carries what Host said
  out.fields.clear();
  for (size_t i = 0; i < head.num_headers; ++i) {
    const http::Header& h = head.headers[i];
    std::string name(h.name);
    for (char& c : name) c = http::ascii_lower(c);
    if (hop_by_hop(name)) continue;
    out.fields.emplace_back(std::move(name), h.value);
  }
  return true;
}

}  // namespace fa::h2
