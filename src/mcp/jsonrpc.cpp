// JSON-RPC 2.0 parsing (simdjson on-demand) and envelope encoding for MCP.
#include "mcp/jsonrpc.h"

#include <simdjson.h>

#include <charconv>
#include <cstring>

#include "json/output_buffer.h"
#include "json/string_escape.h"

namespace fa::mcp {

namespace od = simdjson::ondemand;

namespace {

// simdjson reads up to SIMDJSON_PADDING bytes past the end: parse from a padded private copy.
// `spaces_at` is where the last copy's padding of spaces began; only the copy writes into `buf`,
// so a text of that length again (one client's calls are much alike) finds its padding in place.
simdjson::padded_string_view padded_copy(std::string& buf, size_t& spaces_at,
                                         std::string_view text) {
  if (buf.size() < text.size() + simdjson::SIMDJSON_PADDING)
    buf.resize(text.size() + simdjson::SIMDJSON_PADDING);
  if (!text.empty()) std::memcpy(buf.data(), text.data(), text.size());  // data() may be null
  if (spaces_at != text.size()) {
    std::memset(buf.data() + text.size(), ' ', simdjson::SIMDJSON_PADDING);
    spaces_at = text.size();
  }
  return simdjson::padded_string_view(buf.data(), text.size(), buf.size());
}

// Small helpers are forced inline: GCC's budget for the large parse() otherwise leaves them as
// calls, which costs more than their bodies on every message.
[[gnu::always_inline]] inline std::string_view trim_right(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Maps a view into the padded copy back onto the caller's text (same offsets).
[[gnu::always_inline]] inline std::string_view rebase(std::string_view v, const std::string& buf,
                                                      std::string_view original) {
  if (v.empty()) return {};
  // Only views into the padded copy map back; anything else (never expected) maps to nothing.
  if (v.data() < buf.data() || v.data() + v.size() > buf.data() + original.size()) return {};
  return {original.data() + (v.data() - buf.data()), v.size()};  // in range: checked above
}

// Compares a raw (still escaped) member name with a literal: the literal's length is known at
// compile time, so this is a few inlined word compares instead of strlen + memcmp calls per
// candidate (operator== with a C string; GCC leaves memcmp a call for most lengths). Reading
// r[0..n] is safe: the raw key is quote-terminated inside the padded copy, and a shorter key
// fails at its closing quote.
// A function, not a lambda: GCC left a lambda for this out of line (a call per compare).
template <typename Word>
[[gnu::always_inline]] inline bool word_eq(const char* a, const char* b) {
  Word x, y;
  std::memcpy(&x, a, sizeof x);
  std::memcpy(&y, b, sizeof y);
  return x == y;
}

template <size_t N>
[[gnu::always_inline]] inline bool is_key(const od::raw_json_string& key,
                                          const char (&literal)[N]) {
  constexpr size_t n = N - 1;
  const char* r = key.raw();
  if (r[n] != '"') return false;
  if constexpr (n >= 8) {
    // 8-byte words, the last one overlapping the one before.
    for (size_t i = 0; i + 8 <= n; i += 8)
      if (!word_eq<uint64_t>(r + i, literal + i)) return false;
    return n % 8 == 0 || word_eq<uint64_t>(r + n - 8, literal + n - 8);
  } else if constexpr (n >= 4) {
    return word_eq<uint32_t>(r, literal) && word_eq<uint32_t>(r + n - 4, literal + n - 4);
  } else {
    return std::memcmp(r, literal, n) == 0;
  }
}

bool fail(ParseFailure& f, int code, std::string_view reason, std::string_view id = {}) {
  f.code = code;
  f.reason = reason;
  f.id = id;
  return false;
}

// Raw text of a value of any type (objects and arrays are consumed).
bool raw_value(od::value& value, od::json_type vt, std::string_view& raw) {
  if (vt == od::json_type::object) {
    od::object o;
    return !value.get_object().get(o) && !o.raw_json().get(raw);
  }
  if (vt == od::json_type::array) {
    od::array a;
    return !value.get_array().get(a) && !a.raw_json().get(raw);
  }
  raw = trim_right(value.raw_json_token());
  return true;
}

// Reads the members of params._meta the core needs (basic/index.mdx "_meta").
bool read_meta(od::value& value, KnownParams& known) {
  known.has_meta = true;
  od::object meta;
  if (value.get_object().get(meta)) return false;
  for (auto meta_field : meta) {
    od::field f;
    if (std::move(meta_field).get(f)) return false;
    od::raw_json_string k = f.key();
    od::value v = f.value();
    od::json_type t;
    if (v.type().get(t)) return false;
    if (k.raw()[0] == 'p') {
      if (is_key(k, "progressToken") && (t == od::json_type::string || t == od::json_type::number))
        known.progress_token = trim_right(v.raw_json_token());
    } else if (k.raw()[0] != 'i') {
      continue;
    } else if (is_key(k, "io.modelcontextprotocol/protocolVersion") && t == od::json_type::string) {
      if (v.get_string().get(known.meta_version)) return false;
      known.has_meta_version = true;
    } else if (is_key(k, "io.modelcontextprotocol/logLevel") && t == od::json_type::string) {
      if (v.get_string().get(known.meta_log_level)) return false;
      known.has_meta_log_level = true;
    } else if (is_key(k, "io.modelcontextprotocol/clientCapabilities") &&
               t == od::json_type::object) {
      if (!raw_value(v, t, known.meta_client_capabilities)) return false;
    }
  }
  return true;
}

// Reads the members of params the core needs in one pass; returns false on malformed JSON.
bool read_params(od::object& params, KnownParams& known) {
  for (auto field_result : params) {
    od::field field;
    if (std::move(field_result).get(field)) return false;
    od::raw_json_string key = field.key();
    od::value value = field.value();
    od::json_type vt;
    if (value.type().get(vt)) return false;
    auto string_of = [&](std::string_view& into, bool& has) {
      if (vt != od::json_type::string) return true;  // wrong type: treated as absent
      has = value.get_string().get(into) == simdjson::SUCCESS;
      return has;
    };
    bool ok = true, unused = false;
    // The first byte picks the one candidate name to compare (one compare per member).
    switch (key.raw()[0]) {
      case 'n':
        if (is_key(key, "name")) ok = string_of(known.name, known.has_name);
        break;
      case 'u':
        if (is_key(key, "uri")) ok = string_of(known.uri, known.has_uri);
        break;
      case 'a':
        if (is_key(key, "arguments")) {
          ok = raw_value(value, vt, known.arguments);
          if (ok) known.arguments = trim_right(known.arguments);
        }
        break;
      case 'c':
        if (is_key(key, "cursor"))
          ok = string_of(known.cursor, known.has_cursor);
        else if (is_key(key, "capabilities") && vt == od::json_type::object)
          ok = raw_value(value, vt, known.capabilities);
        break;
      case 'l':
        if (is_key(key, "level")) ok = string_of(known.level, known.has_level);
        break;
      case 'p':
        if (is_key(key, "protocolVersion")) ok = string_of(known.protocol_version, unused);
        break;
      case 't':
        if (is_key(key, "taskId")) ok = string_of(known.task_id, known.has_task_id);
        break;
      case 'r':
        if (is_key(key, "requestId") &&
            (vt == od::json_type::string || vt == od::json_type::number))
          known.request_id = trim_right(value.raw_json_token());
        break;
      case '_':
        if (is_key(key, "_meta") && vt == od::json_type::object && !read_meta(value, known))
          return false;
        break;
      default:
        break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

struct Parser::Impl {
  od::parser message_parser{kMaxMessageBytes};
  od::parser member_parser{kMaxMessageBytes};
  std::string message_buf, member_buf;
  size_t message_spaces_at = SIZE_MAX, member_spaces_at = SIZE_MAX;  // see padded_copy

  // The start of every member lookup: `object` from a padded copy on the member parser, opened
  // as an object. False when it is empty or not an object.
  bool open_object(std::string_view object, od::document& doc, od::object& obj) {
    if (object.empty()) return false;
    auto padded = padded_copy(member_buf, member_spaces_at, object);
    return !member_parser.iterate(padded).get(doc) && !doc.get_object().get(obj);
  }
};

Parser::Parser() : impl_(std::make_unique<Impl>()) {}
Parser::~Parser() = default;

bool Parser::parse(std::string_view text, Message& out, ParseFailure& failure) {
  out = Message{};
  return parse_fresh(text, out, failure);
}

bool Parser::parse_fresh(std::string_view text, Message& out, ParseFailure& failure) {
  if (text.size() > kMaxMessageBytes)
    return fail(failure, kInvalidRequest, "Invalid Request: message too large");
  auto padded = padded_copy(impl_->message_buf, impl_->message_spaces_at, text);
  od::document doc;
  if (impl_->message_parser.iterate(padded).get(doc))
    return fail(failure, kParseError, "Parse error");
  od::json_type type;
  if (doc.type().get(type)) return fail(failure, kParseError, "Parse error");
  if (type == od::json_type::array)
    return fail(failure, kInvalidRequest, "Invalid Request: batches are not supported");
  if (type != od::json_type::object) {
    // A scalar: JSON (then not a request) or not JSON at all.
    bool valid = false;
    std::string_view s;
    double d;
    bool b;
    if (type == od::json_type::string)
      valid = doc.get_string().get(s) == simdjson::SUCCESS;
    else if (type == od::json_type::number)
      valid = doc.get_double().get(d) == simdjson::SUCCESS;
    else if (type == od::json_type::boolean)
      valid = doc.get_bool().get(b) == simdjson::SUCCESS;
    else if (type == od::json_type::null)
      valid = doc.is_null();
    const char* trailing = nullptr;
    if (!valid || doc.current_location().get(trailing) == simdjson::SUCCESS)
      return fail(failure, kParseError, "Parse error");
    return fail(failure, kInvalidRequest, "Invalid Request: not an object");
  }
  od::object obj;
  if (doc.get_object().get(obj)) return fail(failure, kParseError, "Parse error");

  bool have_version = false, have_id = false, have_method = false, have_result = false,
       have_error = false, bad_id = false, bad_method = false, bad_params = false;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field)) return fail(failure, kParseError, "Parse error");
    // Keys compared as written (no unescaping): a member name spelled with escapes is unknown.
    od::raw_json_string key = field.key();
    od::value value = field.value();
    od::json_type vt;
    if (value.type().get(vt)) return fail(failure, kParseError, "Parse error");
    const char c0 = key.raw()[0];  // picks the one candidate name to compare
    if (c0 == 'j' && is_key(key, "jsonrpc")) {
      // The usual spelling is compared raw (no unescaping); anything else is read as a string.
      std::string_view v;
      const char* raw = value.raw_json_token().data();  // quote-terminated in the padded copy
      uint32_t head;
      std::memcpy(&head, raw, 4);
      const bool plain = std::memcmp(&head, R"("2.0)", 4) == 0 && raw[4] == '"';
      if (vt != od::json_type::string || (!plain && (value.get_string().get(v) || v != "2.0")))
        return fail(failure, kInvalidRequest, "Invalid Request: jsonrpc must be \"2.0\"");
      have_version = true;
    } else if (c0 == 'i' && is_key(key, "id")) {
      std::string_view token;
      token = trim_right(value.raw_json_token());
      if (vt == od::json_type::string) {
        std::string_view unused;
        if (value.get_string().get(unused)) return fail(failure, kParseError, "Parse error");
      } else if (vt == od::json_type::number) {
        // Validated as a number: integers (the common id) on the cheap integer path.
        int64_t integer;
        double unused;
        if (value.get_int64().get(integer) && value.get_double().get(unused))
          return fail(failure, kParseError, "Parse error");
      } else {
        bad_id = true;  // null, bool, object, array: MCP ids are strings or numbers
        token = {};
      }
      out.id = rebase(token, impl_->message_buf, text);
      have_id = true;
    } else if (c0 == 'm' && is_key(key, "method")) {
      if (vt != od::json_type::string || value.get_string().get(out.method)) bad_method = true;
      have_method = true;
    } else if (c0 == 'p' && is_key(key, "params")) {
      if (vt == od::json_type::object) {
        const char* start = value.raw_json_token().data();
        od::object p;
        if (value.get_object().get(p) || !read_params(p, out.known))
          return fail(failure, kParseError, "Parse error");
        // After the object the iterator stands on the next token (',' or '}' of the message).
        const char* end = nullptr;
        if (doc.current_location().get(end) || end < start)
          return fail(failure, kParseError, "Parse error");
        std::string_view raw(start, static_cast<size_t>(end - start));
        out.params = rebase(trim_right(raw), impl_->message_buf, text);
        out.known.arguments = rebase(out.known.arguments, impl_->message_buf, text);
        out.known.progress_token = rebase(out.known.progress_token, impl_->message_buf, text);
        out.known.request_id = rebase(out.known.request_id, impl_->message_buf, text);
        out.known.capabilities =
            rebase(trim_right(out.known.capabilities), impl_->message_buf, text);
        out.known.meta_client_capabilities =
            rebase(trim_right(out.known.meta_client_capabilities), impl_->message_buf, text);
      } else {
        bad_params = true;
      }
    } else if (c0 == 'r' && is_key(key, "result")) {
      std::string_view raw;
      if (vt == od::json_type::object) {
        od::object r;
        if (value.get_object().get(r) || r.raw_json().get(raw))
          return fail(failure, kParseError, "Parse error");
      } else if (vt == od::json_type::array) {
        od::array r;
        if (value.get_array().get(r) || r.raw_json().get(raw))
          return fail(failure, kParseError, "Parse error");
      } else {
        raw = value.raw_json_token();
      }
      out.result = rebase(trim_right(raw), impl_->message_buf, text);
      have_result = true;
    } else if (c0 == 'e' && is_key(key, "error")) {
      od::object e;
      if (vt != od::json_type::object || value.get_object().get(e))
        return fail(failure, kInvalidRequest, "Invalid Request: error must be an object");
      int64_t code = 0;
      std::string_view raw;
      if (e.find_field_unordered("code").get_int64().get(code) == simdjson::SUCCESS)
        out.error_code = static_cast<int>(code);
      if (e.raw_json().get(raw) == simdjson::SUCCESS)  // consumes the rest of the object
        out.error = rebase(trim_right(raw), impl_->message_buf, text);
      have_error = true;
    }
    // Unknown members are ignored (JSON-RPC allows extensions).
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS)
    return fail(failure, kParseError, "Parse error: trailing content");
  if (!have_version)
    return fail(failure, kInvalidRequest, "Invalid Request: missing jsonrpc", out.id);
  if (bad_id)
    return fail(failure, kInvalidRequest, "Invalid Request: id must be a string or number");
  if (have_method) {
    if (bad_method)
      return fail(failure, kInvalidRequest, "Invalid Request: method must be a string", out.id);
    if (bad_params)
      return fail(failure, have_id ? kInvalidParams : kInvalidRequest,
                  "Invalid params: params must be an object", out.id);
    out.kind = have_id ? MessageKind::kRequest : MessageKind::kNotification;
    return true;
  }
  if (have_id && (have_result != have_error)) {
    out.kind = have_result ? MessageKind::kResponse : MessageKind::kError;
    return true;
  }
  return fail(failure, kInvalidRequest, "Invalid Request: no method", out.id);
}

std::string_view Parser::raw_member(std::string_view object, std::string_view key) {
  od::document doc;
  od::object obj;
  if (!impl_->open_object(object, doc, obj)) return {};
  for (auto field_result : obj) {
    od::field field;
    std::string_view k;
    if (std::move(field_result).get(field) || field.unescaped_key().get(k)) return {};
    od::value value = field.value();
    if (k != key) continue;  // the loop skips the value
    od::json_type vt;
    std::string_view raw;
    if (value.type().get(vt) || !raw_value(value, vt, raw)) return {};
    return rebase(trim_right(raw), impl_->member_buf, object);
  }
  return {};
}

bool Parser::object_members(std::string_view object,
                            std::vector<std::pair<std::string, std::string>>& out) {
  od::document doc;
  od::object obj;
  if (!impl_->open_object(object, doc, obj)) return false;
  for (auto field_result : obj) {
    od::field field;
    std::string_view k;
    if (std::move(field_result).get(field) || field.unescaped_key().get(k)) return false;
    std::string name(k);  // k lives in the parser's string buffer, reused by the value below
    od::value value = field.value();
    od::json_type vt;
    std::string_view raw;
    if (value.type().get(vt) || !raw_value(value, vt, raw)) return false;
    out.emplace_back(std::move(name), std::string(trim_right(raw)));
  }
  return true;
}

bool Parser::string_array_member(std::string_view object, std::string_view key,
                                 std::vector<std::string>& out) {
  od::document doc;
  od::object obj;
  if (!impl_->open_object(object, doc, obj)) return false;
  for (auto field_result : obj) {
    od::field field;
    std::string_view k;
    if (std::move(field_result).get(field) || field.unescaped_key().get(k)) return false;
    if (k != key) continue;
    od::array items;
    if (field.value().get_array().get(items)) return false;
    for (auto item : items) {
      std::string_view s;
      if (item.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
    }
    return true;
  }
  return false;
}

bool Parser::string_member(std::string_view object, std::string_view key, std::string_view& value) {
  od::document doc;
  od::object obj;
  if (!impl_->open_object(object, doc, obj)) return false;
  for (auto field_result : obj) {
    od::field field;
    std::string_view k;
    if (std::move(field_result).get(field) || field.unescaped_key().get(k)) return false;
    if (k != key) continue;
    return field.value().get_string().get(value) == simdjson::SUCCESS;
  }
  return false;
}

void append_string(std::string& out, std::string_view s) {
  // Most strings (names, methods, URIs) need no escape: copied straight in. An OutputBuffer
  // grows `out` by 256 zeroed bytes first, which for a short name in a small string is a
  // reallocation and a memset per call (the proxy appends each forwarded call's tool name).
  const char* end = s.data() + s.size();
  if (json::find_escape(s.data(), end) == end) {
    const size_t at = out.size();
    out.resize(at + s.size() + 2);
    char* p = out.data() + at;
    p[0] = '"';
    if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  json::OutputBuffer buf(out);
  json::append_json_string(buf, s);
}

namespace {
void append_id(std::string& out, std::string_view id) {
  out.append(id.empty() ? std::string_view("null") : id);
}
}  // namespace

namespace {
// Writes the result envelope at `at`, sizing `out` to end there.
[[gnu::always_inline]] inline void write_result(std::string& out, size_t at, std::string_view id,
                                                std::string_view result_json) {
  // Every reply's envelope: sized once, then copied piece by piece (no capacity check per piece).
  constexpr std::string_view head = R"({"jsonrpc":"2.0","id":)", mid = R"(,"result":)";
  if (id.empty()) id = "null";
  out.resize(at + head.size() + id.size() + mid.size() + result_json.size() + 1);
  char* p = out.data() + at;
  std::memcpy(p, head.data(), head.size());
  p += head.size();
  std::memcpy(p, id.data(), id.size());
  p += id.size();
  std::memcpy(p, mid.data(), mid.size());
  p += mid.size();
  if (!result_json.empty()) std::memcpy(p, result_json.data(), result_json.size());
  p[result_json.size()] = '}';
}
}  // namespace

void encode_result(std::string& out, std::string_view id, std::string_view result_json) {
  write_result(out, out.size(), id, result_json);
}

void encode_result_over(std::string& out, std::string_view id, std::string_view result_json) {
  // resize() from the old size: only bytes past it are zero-filled first (none for a reply as
  // long as the last), where from empty the whole envelope would be.
  write_result(out, 0, id, result_json);
}

void encode_error(std::string& out, std::string_view id, int code, std::string_view message,
                  std::string_view data_json) {
  out.append(R"({"jsonrpc":"2.0","id":)");
  append_id(out, id);
  out.append(R"(,"error":{"code":)");
  char digits[16];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, code);
  out.append(digits, static_cast<size_t>(end - digits));
  out.append(R"(,"message":)");
  append_string(out, message);
  if (!data_json.empty()) {
    out.append(R"(,"data":)");
    out.append(data_json);
  }
  out.append("}}");
}

void encode_notification(std::string& out, std::string_view method, std::string_view params_json) {
  out.append(R"({"jsonrpc":"2.0","method":)");
  append_string(out, method);
  if (!params_json.empty()) {
    out.append(R"(,"params":)");
    out.append(params_json);
  }
  out.push_back('}');
}

}  // namespace fa::mcp
