// Header parameter parsing for multipart/form-data (see header_params.h).
#include "multipart/header_params.h"

#include <algorithm>
#include <cctype>

namespace fa::multipart {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 8187 §3.2.1 ext-value: charset "'" [language] "'" value-chars (percent-encoded). Only
// UTF-8 and ISO-8859-1 are defined; the bytes are kept as they decode (Latin-1 is widened).
std::optional<std::string> decode_ext_value(std::string_view v) {
  const size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  const size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  const std::string_view charset = v.substr(0, q1);
  const bool latin1 = iequals(charset, "iso-8859-1");
  if (!latin1 && !iequals(charset, "utf-8")) return std::nullopt;
  std::string out;
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c == '%' && i + 2 < v.size() && hex(v[i + 1]) >= 0 && hex(v[i + 2]) >= 0) {
      c = static_cast<unsigned char>(hex(v[i + 1]) * 16 + hex(v[i + 2]));
      i += 2;
    }
    if (latin1 && c >= 0x80) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

const std::string* HeaderValue::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return &v;
  }
  return nullptr;
}

HeaderValue parse_header_value(std::string_view value) {
  HeaderValue out;
  size_t i = value.find(';');
  out.main = trim(value.substr(0, i));
  std::vector<bool> extended;  // per params entry: set from a `name*` parameter
  while (i != std::string_view::npos && i < value.size()) {
    ++i;  // past ';'
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    const size_t eq = value.find_first_of("=;", i);
    if (eq == std::string_view::npos || value[eq] == ';') {  // a parameter without '='
      i = eq;
      continue;
    }
    std::string name = lower(trim(value.substr(i, eq - i)));
    i = eq + 1;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    std::string val;
    if (i < value.size() && value[i] == '"') {  // quoted-string, RFC 9110 §5.6.4
      ++i;
      bool closed = false;
      while (i < value.size()) {
        char c = value[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        // Only \" and \\ are escapes: browsers send filenames' other backslashes as is
        // (a Windows path, `a\b.txt`), and HTML percent-encodes '"' in names.
        if (c == '\\' && i < value.size() && (value[i] == '"' || value[i] == '\\')) {
          c = value[i++];
        }
        val.push_back(c);
      }
      if (!closed) break;
      i = value.find(';', i);
    } else {
      const size_t end = value.find(';', i);
      val = std::string(trim(value.substr(i, end == std::string_view::npos ? end : end - i)));
      i = end;
    }
    bool ext = false;
    if (!name.empty() && name.back() == '*') {
      name.pop_back();
      auto decoded = decode_ext_value(val);
      if (!decoded) continue;
      val = std::move(*decoded);
      ext = true;
    }
    if (name.empty()) continue;
    auto it = std::find_if(out.params.begin(), out.params.end(),
                           [&](const auto& p) { return p.first == name; });
    if (it == out.params.end()) {
      out.params.emplace_back(std::move(name), std::move(val));
      extended.push_back(ext);
    } else {
      const size_t idx = static_cast<size_t>(it - out.params.begin());
      if (ext || !extended[idx]) {  // `name*` wins (RFC 8187 §4.2); else the last one
        it->second = std::move(val);
        extended[idx] = ext;
      }
    }
  }
  return out;
}

std::optional<std::string> boundary_from_content_type(std::string_view content_type) {
  HeaderValue hv = parse_header_value(content_type);
  if (!iequals(hv.main, "multipart/form-data")) return std::nullopt;
  const std::string* b = hv.param("boundary");
  if (b == nullptr || b->empty() || b->size() > 70) return std::nullopt;
  if (b->find_first_of("\r\n") != std::string::npos) return std::nullopt;
  return *b;
}

}  // namespace fa::multipart
