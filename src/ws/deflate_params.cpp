// Extension header parsing (RFC 6455 §9.1 grammar: extension *( ";" param ), params
// token [ "=" (token / quoted-string) ], elements separated by commas) and RFC 7692 §7.1 rules.
#include "ws/deflate_params.h"

#include <vector>

#include "http/ascii.h"

namespace fa::ws {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on `sep` outside double quotes.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == sep && !quoted) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(trim(s.substr(start)));
  return parts;
}

// "8".."15" (optionally quoted, §7.1.2.1: token or quoted-string of 1*DIGIT); else -1.
int window_bits(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 2) return -1;
  if (v.size() == 2 && v[0] == '0') return -1;  // no leading zeros
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n >= 8 && n <= 15 ? n : -1;
}

bool accept_offer(const std::vector<std::string_view>& params, DeflateParams& out,
                  std::string& response) {
  DeflateParams p;
  bool seen_snct = false, seen_cnct = false, seen_smwb = false, seen_cmwb = false;
  bool cmwb_has_value = false;
  for (size_t i = 1; i < params.size(); ++i) {
    std::string_view param = params[i];
    size_t eq = param.find('=');
    std::string_view name = trim(param.substr(0, eq));
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : trim(param.substr(eq + 1));
    bool has_value = eq != std::string_view::npos;
    if (http::ascii_iequals(name, "server_no_context_takeover")) {
      if (seen_snct || has_value) return false;
      seen_snct = p.server_no_context_takeover = true;
    } else if (http::ascii_iequals(name, "client_no_context_takeover")) {
      if (seen_cnct || has_value) return false;
      seen_cnct = p.client_no_context_takeover = true;
    } else if (http::ascii_iequals(name, "server_max_window_bits")) {
      if (seen_smwb || !has_value) return false;
      seen_smwb = true;
      if ((p.server_max_window_bits = window_bits(value)) < 0) return false;
    } else if (http::ascii_iequals(name, "client_max_window_bits")) {
      if (seen_cmwb) return false;
      seen_cmwb = true;
      if (has_value) {
        cmwb_has_value = true;
        if ((p.client_max_window_bits = window_bits(value)) < 0) return false;
      }
    } else {
      return false;  // unknown parameter: decline this offer
    }
  }
  response = "permessage-deflate";
  if (p.server_no_context_takeover) response += "; server_no_context_takeover";
  if (p.client_no_context_takeover) response += "; client_no_context_takeover";
  if (seen_smwb) response += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
  // §7.1.2.2: only when offered; a bare offer leaves the client's window at its choice (15).
  if (cmwb_has_value)
    response += "; client_max_window_bits=" + std::to_string(p.client_max_window_bits);
  out = p;
  return true;
}

}  // namespace

bool negotiate_deflate(std::string_view offers, DeflateParams& params, std::string& response) {
  for (std::string_view offer : split(offers, ',')) {
    std::vector<std::string_view> parts = split(offer, ';');
    if (!http::ascii_iequals(parts[0], "permessage-deflate")) continue;
    if (accept_offer(parts, params, response)) return true;
  }
  return false;
}

}  // namespace fa::ws
