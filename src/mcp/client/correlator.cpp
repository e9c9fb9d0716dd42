#include "mcp/client/correlator.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "mcp/client/json_scan.h"

namespace fa::mcp::client {
namespace {

Response error_response(int code, std::string_view message) {
  Response r;
  r.code = code;
  r.message.assign(message);
  r.local = true;
  return r;
}

}  // namespace

bool scan_response(std::string_view text, uint64_t& id, std::string_view& result) {
  using json_scan::skip_ws;
  if (text.size() > kMaxMessageBytes) return false;
  const char* p = text.data();
  const char* const end = p + text.size();
  p = skip_ws(p, end);
  if (p >= end || *p != '{') return false;
  bool have_version = false, have_id = false, have_result = false;
  p = skip_ws(p + 1, end);
  for (;;) {
    if (p >= end || *p != '"') return false;
    const char* key_end = json_scan::detail::check_string(p, end);
    if (!key_end) return false;
    const std::string_view key(p + 1, static_cast<size_t>(key_end - p - 2));
    const char* colon = skip_ws(key_end, end);
    if (colon >= end || *colon != ':') return false;
    const char* value = skip_ws(colon + 1, end);
    const char* value_end = json_scan::check_value(value, end);
    if (!value_end) return false;
    const std::string_view raw(value, static_cast<size_t>(value_end - value));
    if (key == "jsonrpc") {
      if (have_version || raw != R"("2.0")") return false;
      have_version = true;
    } else if (key == "id") {
      // Our ids: 1, 2, ... (a JSON integer has no leading zero; 19 digits fit 64 bits).
      if (have_id || raw.size() > 19 || raw[0] < '1' || raw[0] > '9') return false;
      uint64_t n = 0;
      for (char c : raw) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      id = n;
      have_id = true;
    } else if (key == "result") {
      if (have_result) return false;
      result = raw;
      have_result = true;
    } else if (key == "error" || key == "method" || key == "params" ||
               key.find('\\') != std::string_view::npos) {
      return false;  // not a plain success response (or a name spelled with escapes)
    }
    p = skip_ws(value_end, end);
    if (p >= end) return false;
    if (*p == '}') break;
    if (*p != ',') return false;
    p = skip_ws(p + 1, end);
  }
  if (skip_ws(p + 1, end) != end || !have_version || !have_id || !have_result) return false;
  // What the parser's first stage checks of every message (RFC 8259 §8.1).
  return json_scan::is_ascii(text) || simdjson::validate_utf8(text.data(), text.size());
}

future<Response> Correlator::request(std::string& out, std::string_view method,
                                     std::string_view params_json, uint64_t& id) {
  future<Response> answer = open_request(out, method, id);
  if (!params_json.empty()) {
    out += R"(,"params":)";
    out += params_json;
  }
  out += '}';
  return answer;
}

future<Response> Correlator::open_request(std::string& out, std::string_view method, uint64_t& id) {
  id = next_id_++;
  out += R"({"jsonrpc":"2.0","id":)";
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, id).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
  out += R"(,"method":)";
  append_string(out, method);
  future<Response> answer = pending_.emplace_back(id, promise<Response>()).second.get_future();
  return answer;
}

void Correlator::notification(std::string& out, std::string_view method,
                              std::string_view params_json) {
  if (params_json.empty()) {
    out += R"({"jsonrpc":"2.0","method":)";
    append_string(out, method);
    out += '}';
  } else {
    encode_notification(out, method, params_json);
  }
}

Correlator::Pending::iterator Correlator::find(uint64_t id) {
  auto it = std::lower_bound(pending_.begin(), pending_.end(), id,
                             [](const auto& entry, uint64_t key) { return entry.first < key; });
  return it != pending_.end() && it->first == id ? it : pending_.end();
}

Correlator::Pending::const_iterator Correlator::find(uint64_t id) const {
  auto it = std::lower_bound(pending_.begin(), pending_.end(), id,
                             [](const auto& entry, uint64_t key) { return entry.first < key; });
  return it != pending_.end() && it->first == id ? it : pending_.end();
}

Correlator::Incoming Correlator::answer(uint64_t id, Response&& r) {
  auto it = find(id);
  if (it == pending_.end()) return Incoming::kUnknownId;
  promise<Response> p = std::move(it->second);
  pending_.erase(it);
  p.set_value(std::move(r));
  return Incoming::kAnswered;
}

Correlator::Incoming Correlator::on_message(std::string_view text) {
  uint64_t answered = 0;
  std::string_view result;
  if (scan_response(text, answered, result)) {
    msg_ = Message{};
    msg_.kind = MessageKind::kResponse;
    msg_.result = result;
    Response r;
    r.ok = true;
    r.result.assign(result);
    return answer(answered, std::move(r));
  }
  ParseFailure failure;
  if (!parser_.parse(text, msg_, failure)) return Incoming::kInvalid;
  switch (msg_.kind) {
    case MessageKind::kRequest:
      return Incoming::kRequest;
    case MessageKind::kNotification:
      return Incoming::kNotification;
    case MessageKind::kResponse:
    case MessageKind::kError:
      break;
  }
  uint64_t id = 0;
  std::string_view tok = msg_.id;
  auto [end, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), id);
  if (tok.empty() || ec != std::errc() || end != tok.data() + tok.size())
    return Incoming::kUnknownId;                                // we only send integer ids
  if (find(id) == pending_.end()) return Incoming::kUnknownId;  // before reading the error
  Response r;
  if (msg_.kind == MessageKind::kResponse) {
    r.ok = true;
    r.result.assign(msg_.result);
  } else {
    r.code = msg_.error_code;
    // The error object's message and data: read from a copy, as the parser's views of `text`
    // are not needed any more (jsonrpc.h: member lookups must not alias the parsed text).
    std::string error(parser_.raw_member(text, "error"));
    std::string_view message;
    if (parser_.string_member(error, "message", message)) r.message.assign(message);
    r.data.assign(parser_.raw_member(error, "data"));
  }
  return answer(id, std::move(r));
}

bool Correlator::abandon(uint64_t id, std::string& out, int code, std::string_view reason) {
  if (answer(id, error_response(code, reason)) != Incoming::kAnswered) return false;
  std::string params = R"({"requestId":)";
  params += std::to_string(id);
  params += R"(,"reason":)";
  append_string(params, reason);
  params += '}';
  encode_notification(out, "notifications/cancelled", params);
  return true;
}

void Correlator::fail_all(std::string_view reason) {
  Pending pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) p.set_value(error_response(kConnectionClosed, reason));
}

}  // namespace fa::mcp::client
