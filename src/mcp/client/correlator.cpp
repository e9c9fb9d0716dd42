#include "mcp/client/correlator.h"

#include <charconv>
#include <utility>

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

future<Response> Correlator::request(std::string& out, std::string_view method,
                                     std::string_view params_json, uint64_t& id) {
  id = next_id_++;
  out += R"({"jsonrpc":"2.0","id":)";
  out += std::to_string(id);
  out += R"(,"method":)";
  append_string(out, method);
  if (!params_json.empty()) {
    out += R"(,"params":)";
    out += params_json;
  }
  out += '}';
  promise<Response> p;
  future<Response> answer = p.get_future();
  pending_.emplace(id, std::move(p));
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

Correlator::Incoming Correlator::on_message(std::string_view text) {
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
    return Incoming::kUnknownId;  // we only send integer ids
  auto it = pending_.find(id);
  if (it == pending_.end()) return Incoming::kUnknownId;
  promise<Response> p = std::move(it->second);
  pending_.erase(it);
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
  p.set_value(std::move(r));
  return Incoming::kAnswered;
}

bool Correlator::abandon(uint64_t id, std::string& out, int code, std::string_view reason) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  promise<Response> p = std::move(it->second);
  pending_.erase(it);
  p.set_value(error_response(code, reason));
  std::string params = R"({"requestId":)";
  params += std::to_string(id);
  params += R"(,"reason":)";
  append_string(params, reason);
  params += '}';
  encode_notification(out, "notifications/cancelled", params);
  return true;
}

void Correlator::fail_all(std::string_view reason) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) p.set_value(error_response(kConnectionClosed, reason));
}

}  // namespace fa::mcp::client
