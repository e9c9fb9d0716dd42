// Server-to-client requests for 2026-07-28 clients (basic/patterns/mrtr.mdx): such a client
// cannot be sent sampling/createMessage, elicitation/create or roots/list mid-call, so when an
// upstream (of the 2025-11-25 era, which does send them) asks during a call, the proxy answers
// the client's request with an InputRequiredResult naming what was asked and a requestState;
// the upstream's call stays open, waiting. The client's retry (a new id, the same method and
// name, inputResponses and the requestState echoed) takes the call over: each response goes to
// the upstream under the id it asked with, and the upstream's answer (or its next question)
// goes to the retry.
//
// The requestState is "fa-proxy." + 128 random bits naming the parked call here: it carries
// nothing to tamper with, an unknown or expired one is refused (-32602), and it is bound to the
// method and name it was issued for (mrtr.mdx "Server Requirements" 4-5). A call whose client
// does not come back within ProxyOptions::input_ttl is cancelled upstream.
#include <simdjson.h>

#include <string>

#include "mcp/jsonrpc.h"
#include "mcp/proxy/proxy_core.h"
#include "mcp/random_id.h"

namespace fa::mcp::proxy {

namespace {
constexpr std::string_view kStatePrefix = "fa-proxy.";
}  // namespace

void ProxyCore::erase_call(uint64_t call_id) {
  calls_.erase(call_id);
}

void ProxyCore::ask_input(InFlight& f, client::Upstream* up, std::string_view id,
                          std::string_view method, std::string_view params) {
  Asked a;
  a.upstream = up->weak_from_this();
  a.key = "input-" + std::to_string(f.next_key++);
  a.upstream_id.assign(id);
  a.request = R"({"method":)";
  append_string(a.request, method);
  a.request += R"(,"params":)";
  a.request += params.empty() ? std::string_view("{}") : params;
  a.request += '}';
  f.asked.push_back(std::move(a));
  // While the client waits (its first request, or a retry) the question goes now; else it is
  // put with the next round, when the client's retry comes.
  if (f.reply.active()) send_input_required(f);
}

void ProxyCore::send_input_required(InFlight& f) {
  if (f.state.empty()) {
    auto it = calls_.find(f.call_id);
    if (it == calls_.end()) return;
    f.state = std::string(kStatePrefix) + random_hex_id();
    parked_[f.state] = it->second;
  }
  // resultType first: Reply keeps a result's own type (modern_result).
  std::string out = R"({"resultType":"input_required","inputRequests":{)";
  for (size_t i = 0; i < f.asked.size(); ++i) {
    if (i) out += ',';
    append_string(out, f.asked[i].key);
    out += ':';
    out += f.asked[i].request;
  }
  out += R"(},"requestState":)";
  append_string(out, f.state);
  out += '}';
  f.reply.result(out);
  if (f.expiry) loop_.cancel(f.expiry);
  f.expiry = loop_.call_later(options_.input_ttl,
                              [this, alive = std::weak_ptr<bool>(alive_), state = f.state] {
                                if (!alive.lock()) return;
                                auto it = parked_.find(state);
                                if (it == parked_.end()) return;
                                it->second->expiry = 0;
                                // The client never came back: the upstream stops waiting (cancel()
                                // ends the rounds).
                                if (!it->second->reply.active()) cancel(it->second->call_id);
                              });
}

void ProxyCore::end_rounds(InFlight& f) {
  if (f.expiry) loop_.cancel(f.expiry);
  f.expiry = 0;
  if (!f.state.empty()) parked_.erase(f.state);
  f.state.clear();
  f.asked.clear();
}

bool ProxyCore::retry_of(const std::shared_ptr<Session>& session, const Message& msg,
                         const std::shared_ptr<Channel>& channel, std::string& members,
                         bool cacheable, Outcome& out) {
  if (!msg.known.has_meta_version ||
      (msg.params.find(R"("requestState")") == std::string_view::npos &&
       msg.params.find(R"("inputResponses")") == std::string_view::npos))
    return false;
  simdjson::dom::parser parser;
  simdjson::dom::element doc, responses;
  if (parser.parse(msg.params.data(), msg.params.size()).get(doc)) return false;
  std::string_view state;
  const bool has_state = !doc["requestState"].get_string().get(state);
  std::string raw_responses;
  if (!doc["inputResponses"].get(responses)) raw_responses = simdjson::minify(responses);
  if (has_state && state.starts_with(kStatePrefix)) {
    out = resume(session, msg, channel, state, raw_responses, cacheable);
    return true;
  }
  // A 2026-07-28 upstream's own round: passed on as the client sent it.
  if (!raw_responses.empty()) {
    members += R"(,"inputResponses":)";
    members += raw_responses;
  }
  if (has_state) {
    members += R"(,"requestState":)";
    append_string(members, state);
  }
  return false;
}

Outcome ProxyCore::resume(const std::shared_ptr<Session>& session, const Message& msg,
                          const std::shared_ptr<Channel>& channel, std::string_view state,
                          std::string_view responses, bool cacheable) {
  auto it = parked_.find(std::string(state));
  if (it == parked_.end())
    return refuse(msg, channel, kInvalidParams,
                  "Invalid params: requestState is unknown or expired");
  std::shared_ptr<InFlight> flight = it->second;
  std::string_view name = msg.method == "resources/read" ? msg.known.uri : msg.known.name;
  if (flight->method != msg.method || flight->name != name)
    return refuse(msg, channel, kInvalidParams,
                  "Invalid params: requestState was issued for another request");
  if (flight->reply.active())
    return refuse(msg, channel, kInvalidParams,
                  "Invalid params: requestState is in use by another retry");
  // The retry is now the request the upstream's call answers.
  uint64_t call_id = 0;
  Reply reply = make_reply(session, msg, channel, cacheable, call_id);
  const uint64_t old_id = flight->call_id;
  calls_.erase(old_id);
  flight->call_id = call_id;
  calls_[call_id] = flight;
  for (auto& [token, r] : progress_)
    if (r.call_id() == old_id) r = reply;
  flight->reply = reply;
  flight->capabilities.assign(msg.known.meta_client_capabilities);
  if (flight->expiry) loop_.cancel(flight->expiry);
  flight->expiry = 0;
  // Each answered question goes to the upstream under its own id; what was not answered is
  // asked again (mrtr.mdx "Error Handling").
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object answers;
  bool have = !responses.empty() && !parser.parse(responses.data(), responses.size()).get(doc) &&
              !doc.get_object().get(answers);
  std::vector<Asked> left;
  for (auto& a : flight->asked) {
    simdjson::dom::element value;
    if (have && !answers.at_key(a.key).get(value)) {
      if (auto up = a.upstream.lock(); up && up->alive())
        up->respond(a.upstream_id, simdjson::minify(value));
    } else {
      left.push_back(std::move(a));
    }
  }
  flight->asked = std::move(left);
  if (!flight->asked.empty()) send_input_required(*flight);
  if (!reply.active()) return Outcome::kAnswered;
  channel->pending([this, alive = std::weak_ptr<bool>(alive_),
                    weak = std::weak_ptr<Session>(session), id = std::string(reply.id())] {
    if (!alive.lock()) return;
    if (auto s = weak.lock()) cancel_request(*s, id);
  });
  return Outcome::kPending;
}

}  // namespace fa::mcp::proxy
