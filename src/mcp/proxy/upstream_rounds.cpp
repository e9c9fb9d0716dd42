// A 2026-07-28 upstream's input rounds, driven for a 2025-11-25 client (SEP-2322,
// 2026-07-28 basic/patterns/mrtr.mdx). Such an upstream does not send sampling/createMessage,
// elicitation/create or roots/list mid-call: it answers the call with an InputRequiredResult
// (`inputRequests` keyed by names of its choosing, an opaque `requestState`) and expects the
// call again with `inputResponses` under the same keys and the state echoed. A 2025-11-25
// client is served "according to the negotiated legacy revision" (2026-07-28
// basic/versioning.mdx, dual-era servers), where the server asks with requests of its own
// during the call (2025-11-25 client/sampling.mdx, client/elicitation.mdx, client/roots.mdx),
// on the stream of the request they belong to (2025-11-25 basic/transports.mdx: the POST's SSE
// stream; stdout on stdio). So each entry becomes a request to the client on its call's stream
// (Reply::request); when every one is answered the call goes upstream again with the answers as
// inputResponses and the requestState byte for byte, and what that returns is treated as the
// first answer was: a result for the client, or the next round. The upstream is sent the
// client's initialize capabilities (those three) as its `_meta` clientCapabilities, so it asks
// only what the client can answer (mrtr.mdx "Server Requirements"); what it asks beyond them,
// an error the client answers with (inputResponses cannot carry one), or more than
// ProxyOptions::max_input_rounds rounds fail the call with -32603.
#include <simdjson.h>

#include <string>
#include <vector>

#include "mcp/jsonrpc.h"
#include "mcp/proxy/entry.h"
#include "mcp/proxy/names.h"
#include "mcp/proxy/proxy_core.h"

namespace fa::mcp::proxy {

bool ProxyCore::ask_client(const std::shared_ptr<Entry>& e, const std::shared_ptr<InFlight>& flight,
                           uint64_t token, std::string_view method, std::string& members,
                           std::string& name, std::string_view result) {
  Reply& reply = flight->reply;
  auto fail = [&](const std::string& why) {
    reply.error(kInternalError, "Upstream '" + e->name + "': " + why);
    return false;
  };
  if (!flight->rounds) {
    flight->rounds = std::make_shared<UpstreamRounds>();
    flight->rounds->method = method;
    flight->rounds->members = std::move(members);
    flight->rounds->name = std::move(name);
    flight->rounds->token = token;
  }
  UpstreamRounds& r = *flight->rounds;
  forget_round(r);
  r.answers.clear();
  r.state.clear();
  r.awaiting = 0;
  flight->upstream_id = 0;  // nothing in flight upstream while the client answers
  if (++r.count > options_.max_input_rounds)
    return fail("asked for input more than " + std::to_string(options_.max_input_rounds) +
                " times");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object requests;
  if (parser.parse(result.data(), result.size()).get(doc))
    return fail("an InputRequiredResult that is not JSON");
  if (std::string_view state; !doc["requestState"].get_string().get(state))
    append_string(r.state, state);
  struct Ask {
    std::string_view key, method;
    std::string params;
  };
  std::vector<Ask> asks;
  const std::string_view caps = reply.client_capabilities();
  if (!doc["inputRequests"].get_object().get(requests)) {
    for (auto field : requests) {
      Ask a{field.key, {}, "{}"};
      simdjson::dom::element params;
      if (field.value["method"].get_string().get(a.method))
        return fail("an inputRequests entry without a method");
      if (!field.value["params"].get(params)) a.params = simdjson::minify(params);
      std::string_view needs = capability_for(a.method);
      if (needs.empty())
        return fail("asked the client for " + std::string(a.method) +
                    ", which is not a request a server may send");
      if (!declares(caps, needs))
        return fail("asked for " + std::string(a.method) + ", but the client did not declare the " +
                    std::string(needs) + " capability");
      asks.push_back(std::move(a));
    }
  }
  for (const Ask& a : asks) {
    const uint64_t number = reply.request(a.method, a.params);
    if (number == 0) return fail("could not ask the client for " + std::string(a.method));
    relayed_[number] = Relayed{{}, {}, flight, std::string(a.key)};
    r.asked.push_back(number);
    ++r.awaiting;
  }
  // Nothing to ask (only a requestState): the call goes again at once.
  if (r.awaiting == 0) retry_upstream(flight);
  return true;
}

void ProxyCore::round_answer(const std::shared_ptr<InFlight>& flight, std::string_view key, bool ok,
                             std::string_view json) {
  if (!flight->rounds || !calls_.contains(flight->call_id)) return;  // ended or cancelled
  UpstreamRounds& r = *flight->rounds;
  if (!ok) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view message = "error";
    if (!parser.parse(json.data(), json.size()).get(doc) &&
        doc["message"].get_string().get(message))
      message = "error";
    const std::string why =
        "Upstream '" + flight->entry->name +
        "' asked for input, and the client answered with an error: " + std::string(message);
    Reply reply = flight->reply;
    end_call(*flight->entry, *flight, r.token);
    reply.error(kInternalError, why);
    return;
  }
  if (!r.answers.empty()) r.answers += ',';
  append_string(r.answers, key);
  r.answers += ':';
  r.answers += json;
  if (r.awaiting && --r.awaiting == 0) retry_upstream(flight);
}

void ProxyCore::retry_upstream(const std::shared_ptr<InFlight>& flight) {
  UpstreamRounds& r = *flight->rounds;
  forget_round(r);
  std::string members = r.members;
  if (!members.empty()) members += ',';
  members += R"("inputResponses":{)";
  members += r.answers;
  members += '}';
  if (!r.state.empty()) {
    members += R"(,"requestState":)";
    members += r.state;
  }
  std::string meta;
  if (r.token) meta = R"("progressToken":)" + std::to_string(r.token);
  client::Request request{r.method, members, meta, r.name};
  request.client_capabilities = legacy_capabilities(flight->reply.client_capabilities());
  request.timeout = std::chrono::milliseconds(0);  // the deadline list (watch())
  std::shared_ptr<Entry> e = flight->entry;
  (void)call_upstream(e, request, flight)
      .then([this, alive = std::weak_ptr<bool>(alive_), e, flight](client::Response resp) {
        if (!alive.lock()) return;
        UpstreamRounds& rounds = *flight->rounds;
        answered(e, flight, rounds.token, std::move(resp), rounds.method, rounds.members,
                 rounds.name);
      });
}

void ProxyCore::forget_round(UpstreamRounds& rounds) {
  for (uint64_t number : rounds.asked) relayed_.erase(number);
  rounds.asked.clear();
}

std::string_view ProxyCore::legacy_capabilities(std::string_view declared) {
  if (declared == caps_declared_ && !caps_modern_.empty()) return caps_modern_;
  caps_declared_.assign(declared);
  caps_modern_ = "{";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object caps;
  if (!parser.parse(declared.data(), declared.size()).get(doc) && !doc.get_object().get(caps)) {
    for (auto field : caps) {
      if (field.key != "sampling" && field.key != "elicitation" && field.key != "roots") continue;
      if (caps_modern_.size() > 1) caps_modern_ += ',';
      append_string(caps_modern_, field.key);
      caps_modern_ += ':';
      caps_modern_ += simdjson::minify(field.value);
    }
  }
  caps_modern_ += '}';
  return caps_modern_;
}

}  // namespace fa::mcp::proxy
