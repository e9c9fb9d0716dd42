// Namespacing: qualified names and URIs, listing rewrites (simdjson DOM; lists are not the
// per-call path).
#include "mcp/proxy/names.h"

#include <simdjson.h>

#include <cstring>

#include "mcp/client/json_scan.h"
#include "mcp/jsonrpc.h"

namespace fa::mcp::proxy {

namespace dom = simdjson::dom;

bool valid_upstream_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string qualified_name(std::string_view upstream, std::string_view name) {
  std::string out(upstream);
  out += kNameSeparator;
  out += name;
  return out;
}

std::string qualified_uri(std::string_view upstream, std::string_view uri) {
  std::string out(upstream);
  out += kUriSeparator;
  out += uri;
  return out;
}

bool split_name(std::string_view qualified, std::string_view& upstream, std::string_view& name) {
  size_t at = qualified.find(kNameSeparator);
  if (at == std::string_view::npos || at == 0) return false;
  upstream = qualified.substr(0, at);
  name = qualified.substr(at + kNameSeparator.size());
  return valid_upstream_name(upstream) && !name.empty();
}

bool split_uri(std::string_view qualified, std::string_view& upstream, std::string_view& uri) {
  size_t at = qualified.find(kUriSeparator);
  if (at == std::string_view::npos || at == 0) return false;
  upstream = qualified.substr(0, at);
  uri = qualified.substr(at + 1);
  return valid_upstream_name(upstream) && !uri.empty();
}

namespace {

void append_member(std::string& out, std::string_view key, std::string_view value_json) {
  append_string(out, key);
  out += ':';
  out += value_json;
}

}  // namespace

bool qualify_listing(std::string_view result_json, std::string_view key, std::string_view field,
                     std::string_view upstream, bool is_uri, std::string& items,
                     std::string& next_cursor) {
  dom::parser parser;
  dom::element doc;
  dom::object root;
  if (parser.parse(result_json.data(), result_json.size()).get(doc) || doc.get_object().get(root))
    return false;
  next_cursor.clear();
  std::string_view cursor;
  if (!root["nextCursor"].get_string().get(cursor)) next_cursor.assign(cursor);
  dom::array list;
  if (root[key].get_array().get(list)) return false;
  for (dom::element item : list) {
    dom::object obj;
    if (item.get_object().get(obj)) continue;  // not a descriptor: left out
    if (!items.empty()) items += ',';
    items += '{';
    bool first = true;
    for (auto [k, v] : obj) {
      if (!first) items += ',';
      first = false;
      std::string_view s;
      if (k == field && !v.get_string().get(s)) {
        std::string q = is_uri ? qualified_uri(upstream, s) : qualified_name(upstream, s);
        append_string(items, k);
        items += ':';
        append_string(items, q);
      } else {
        append_member(items, k, simdjson::minify(v));
      }
    }
    items += '}';
  }
  return true;
}

namespace {

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Whether the escaped member name `raw` (between its quotes) reads as `name`, an ASCII name:
// escapes are decoded; one that decodes to a non-ASCII character cannot match.
bool escaped_key_is(std::string_view raw, std::string_view name) {
  size_t n = 0;
  for (size_t i = 0; i < raw.size(); ++i, ++n) {
    char c = raw[i];
    if (c == '\\') {
      if (++i >= raw.size()) return false;
      switch (raw[i]) {
        case 'u': {
          if (i + 4 >= raw.size()) return false;
          int v = 0;
          for (size_t k = 1; k <= 4; ++k) {
            int d = hex_digit(raw[i + k]);
            if (d < 0) return false;
            v = v * 16 + d;
          }
          i += 4;
          if (v >= 0x80) return false;
          c = static_cast<char>(v);
          break;
        }
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        default:
          c = raw[i];
          break;  // \" \\ \/
      }
    }
    if (n >= name.size() || name[n] != c) return false;
  }
  return n == name.size();
}

}  // namespace

std::string without_members(std::string_view json, std::initializer_list<std::string_view> drop) {
  // Every forwarded answer of a 2026-07-28 upstream comes here: one pass over the top level
  // (json_scan.h: nested values skipped by bracket depth, 16 bytes at a time), the kept
  // members copied byte for byte, runs of adjacent ones in one piece. Anything but an object
  // comes back unchanged.
  using json_scan::skip_string, json_scan::skip_value, json_scan::skip_ws;
  const char* const begin = json.data();
  const char* const end = begin + json.size();
  const char* p = skip_ws(begin, end);
  if (p >= end || *p != '{') return std::string(json);
  std::string out;
  out.reserve(json.size());
  out += '{';
  p = skip_ws(p + 1, end);
  if (p < end && *p == '}') return out += '}';
  // Kept bytes not yet copied: [run, run_end) holds whole members and the commas between them.
  const char* run = nullptr;
  const char* run_end = nullptr;
  auto flush = [&] {
    if (!run) return;
    if (out.size() > 1) out += ',';
    out.append(run, static_cast<size_t>(run_end - run));
    run = nullptr;
  };
  for (;;) {
    if (p >= end || *p != '"') return std::string(json);
    const char* member = p;
    bool escaped = false;
    const char* key_end = skip_string(p, end, &escaped);
    if (!key_end) return std::string(json);
    const std::string_view key(p + 1, static_cast<size_t>(key_end - p - 2));
    const char* colon = skip_ws(key_end, end);
    if (colon >= end || *colon != ':') return std::string(json);
    const char* value = skip_ws(colon + 1, end);
    const char* value_end = skip_value(value, end);
    if (!value_end || value_end == value) return std::string(json);
    bool dropped = false;
    for (auto d : drop) {
      dropped = escaped
                    ? escaped_key_is(key, d)
                    : key.size() == d.size() && std::memcmp(key.data(), d.data(), d.size()) == 0;
      if (dropped) break;
    }
    if (!dropped) {
      if (colon == key_end && value == colon + 1) {  // written "key":value, as most are
        if (run && member == run_end + 1 && *run_end == ',') {
          run_end = value_end;  // right after the previous kept member: one run
        } else {
          flush();
          run = member;
          run_end = value_end;
        }
      } else {  // spaced: rewritten "key":value
        flush();
        if (out.size() > 1) out += ',';
        out.append(member, static_cast<size_t>(key_end - member));
        out += ':';
        out.append(value, static_cast<size_t>(value_end - value));
      }
    }
    p = skip_ws(value_end, end);
    if (p >= end) return std::string(json);
    if (*p == '}') break;
    if (*p != ',') return std::string(json);
    p = skip_ws(p + 1, end);
  }
  flush();
  out += '}';
  return out;
}

bool unqualify_completion(std::string_view params_json, std::string& upstream,
                          std::string& members) {
  dom::parser parser;
  dom::element doc;
  dom::object root, ref;
  if (parser.parse(params_json.data(), params_json.size()).get(doc) || doc.get_object().get(root) ||
      root["ref"].get_object().get(ref))
    return false;
  std::string_view type;
  if (ref["type"].get_string().get(type)) return false;
  const bool is_uri = type == "ref/resource";
  const std::string_view field = is_uri ? "uri" : "name";
  std::string_view qualified, up, inner;
  if (ref[field].get_string().get(qualified)) return false;
  if (!(is_uri ? split_uri(qualified, up, inner) : split_name(qualified, up, inner))) return false;
  upstream.assign(up);
  members.clear();
  for (auto [k, v] : root) {
    if (k == "_meta") continue;  // the proxy writes the upstream request's _meta itself
    if (!members.empty()) members += ',';
    if (k != "ref") {
      append_member(members, k, simdjson::minify(v));
      continue;
    }
    append_string(members, "ref");
    members += ":{";
    bool first = true;
    for (auto [rk, rv] : ref) {
      if (!first) members += ',';
      first = false;
      if (rk == field) {
        append_string(members, rk);
        members += ':';
        append_string(members, inner);
      } else {
        append_member(members, rk, simdjson::minify(rv));
      }
    }
    members += '}';
  }
  return true;
}

std::string_view capability_for(std::string_view method) {
  if (method.starts_with("sampling/")) return "sampling";
  if (method.starts_with("elicitation/")) return "elicitation";
  if (method.starts_with("roots/")) return "roots";
  return {};
}

bool declares(std::string_view capabilities, std::string_view key) {
  if (capabilities.empty()) return false;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object caps;
  if (parser.parse(capabilities.data(), capabilities.size()).get(doc) || doc.get_object().get(caps))
    return false;
  for (auto field : caps)
    if (field.key == key) return true;
  return false;
}

}  // namespace fa::mcp::proxy
