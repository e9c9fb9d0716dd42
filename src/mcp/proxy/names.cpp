// Namespacing: qualified names and URIs, listing rewrites (simdjson DOM; lists are not the
// per-call path).
#include "mcp/proxy/names.h"

#include <simdjson.h>

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

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// Index just past the string starting at s[i] == '"', npos when unterminated; `escaped` tells
// whether it held a backslash.
size_t skip_string(std::string_view s, size_t i, bool& escaped) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      escaped = true;
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Index just past the JSON value starting at s[i], npos when it is cut short. Nested
// containers are matched by depth, their strings skipped; scalars end at ',', '}' or ']'.
size_t skip_value(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  bool escaped = false;
  if (s[i] == '"') return skip_string(s, i, escaped);
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
           s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
      ++i;
    return i;
  }
  int depth = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      i = skip_string(s, i, escaped);
      if (i == std::string_view::npos) return i;
      --i;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The members of object `json` but those named in `drop`, copied byte for byte in one pass
// (the upstream's result is valid JSON: it was parsed when its response was read). False when
// the text is not a plain object this scanner follows (an escaped key, a cut-short value):
// the caller then takes the parser's path.
bool splice_without(std::string_view json, std::initializer_list<std::string_view> drop,
                    std::string& out) {
  size_t i = skip_ws(json, 0);
  if (i >= json.size() || json[i] != '{') return false;
  out.reserve(json.size());
  out = "{";
  i = skip_ws(json, i + 1);
  if (i < json.size() && json[i] == '}') {
    out += '}';
    return true;
  }
  for (;;) {
    if (i >= json.size() || json[i] != '"') return false;
    bool escaped = false;
    size_t key_end = skip_string(json, i, escaped);
    if (key_end == std::string_view::npos || escaped) return false;
    std::string_view key = json.substr(i + 1, key_end - i - 2);
    size_t colon = skip_ws(json, key_end);
    if (colon >= json.size() || json[colon] != ':') return false;
    size_t value = skip_ws(json, colon + 1);
    size_t end = skip_value(json, value);
    if (end == std::string_view::npos || end == value) return false;
    bool dropped = false;
    for (auto d : drop) dropped = dropped || key == d;
    if (!dropped) {
      if (out.size() > 1) out += ',';
      out.append(json.substr(i, key_end - i));
      out += ':';
      out.append(json.substr(value, end - value));
    }
    i = skip_ws(json, end);
    if (i >= json.size()) return false;
    if (json[i] == '}') break;
    if (json[i] != ',') return false;
    i = skip_ws(json, i + 1);
  }
  out += '}';
  return true;
}

}  // namespace

std::string without_members(std::string_view json, std::initializer_list<std::string_view> drop) {
  // Every forwarded answer of a 2026-07-28 upstream comes here: spliced, not re-parsed.
  if (std::string out; splice_without(json, drop, out)) return out;
  dom::parser parser;
  dom::element doc;
  dom::object root;
  if (parser.parse(json.data(), json.size()).get(doc) || doc.get_object().get(root))
    return std::string(json);
  std::string out = "{";
  for (auto [k, v] : root) {
    bool skip = false;
    for (auto d : drop) skip = skip || k == d;
    if (skip) continue;
    if (out.size() > 1) out += ',';
    append_member(out, k, simdjson::minify(v));
  }
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

}  // namespace fa::mcp::proxy
