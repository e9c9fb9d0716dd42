// Upstream: era negotiation, per-request _meta, timeouts and cancellation over any transport.
#include "mcp/client/upstream.h"

#include <simdjson.h>

#include <stdexcept>

#include "core/future_errors.h"
#include "core/future_timers.h"
#include "mcp/jsonrpc.h"

namespace fa::mcp::client {

namespace {

Response failure(int code, std::string_view message) {
  Response r;
  r.code = code;
  r.message.assign(message);
  r.local = true;
  return r;
}

// True when the server/discover result lists the 2026-07-28 revision.
bool lists_modern(std::string_view result) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(result.data(), result.size()).get(doc)) return false;
  simdjson::dom::array versions;
  if (doc["supportedVersions"].get_array().get(versions)) return false;
  for (auto v : versions) {
    std::string_view s;
    if (!v.get_string().get(s) && s == kModernProtocol) return true;
  }
  return false;
}

std::string member_json(std::string_view result, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc, value;
  if (parser.parse(result.data(), result.size()).get(doc) || doc[key].get(value)) return {};
  return simdjson::minify(value);
}

}  // namespace

void Upstream::append_params(std::string& params, const Request& request) const {
  params += '{';
  params += request.members;
  if (modern_ || !request.meta_members.empty()) {
    if (!request.members.empty()) params += ',';
    params += R"("_meta":{)";
    params += request.meta_members;
    if (modern_) {
      // 2026-07-28 basic/index.mdx "Per-request protocol fields".
      if (!request.meta_members.empty()) params += ',';
      params += R"("io.modelcontextprotocol/protocolVersion":")";
      params += kModernProtocol;
      // No capabilities unless the caller passes some: a 2026-07-28 server asks for sampling,
      // elicitation or roots with an InputRequiredResult round, which this class does not
      // drive (a proxy passes its client's, whose retry then carries the answers).
      params += R"(","io.modelcontextprotocol/clientCapabilities":)";
      params += request.client_capabilities.empty() ? std::string_view("{}")
                                                    : request.client_capabilities;
      params += R"(,"io.modelcontextprotocol/clientInfo":{"name":)";
      append_string(params, options_.client_name);
      params += R"(,"version":)";
      append_string(params, options_.client_version);
      params += "}";
    }
    params += '}';
  }
  params += '}';
}

future<Response> Upstream::raw_call(const Request& request, uint64_t* id_out) {
  if (!alive()) return make_ready_future<Response>(failure(kConnectionClosed, "Connection closed"));
  // The body built once, in one allocation: the envelope, the params (or the members and _meta
  // they are built from, with room for the 2026-07-28 fields and escapes) and the stdio
  // transport's newline.
  std::string body;
  size_t params_size = request.params.empty()
                           ? request.members.size() + request.meta_members.size() +
                                 request.client_capabilities.size() + options_.client_name.size() +
                                 options_.client_version.size() + 256
                           : request.params.size();
  body.reserve(64 + request.method.size() + params_size);
  uint64_t id = 0;
  future<Response> answer = correlator_.open_request(body, request.method, id);
  body += R"(,"params":)";
  if (request.params.empty()) {
    append_params(body, request);
  } else {
    body += request.params;
  }
  body += '}';
  if (id_out) *id_out = id;
  send_request(id, std::move(body), request);
  return answer;
}

future<Response> Upstream::call(const Request& request, uint64_t* id_out) {
  uint64_t id = 0;
  future<Response> answer = raw_call(request, &id);
  if (id_out) *id_out = id;
  if (answer.available()) return answer;
  std::chrono::milliseconds timeout = request.timeout.value_or(options_.timeout);
  if (timeout.count() <= 0) return answer;
  std::weak_ptr<Upstream> weak = weak_from_this();
  return with_timeout(loop_, timeout, std::move(answer))
      .handle_exception([weak, id](std::exception_ptr e) -> Response {
        // The timer won (timed_out_error): give up on the request and tell the server.
        if (auto self = weak.lock()) self->cancel(id, "Request timed out");
        try {
          std::rethrow_exception(e);
        } catch (const timed_out_error&) {
          return failure(kRequestTimeout, "Request timed out");
        } catch (const std::exception& ex) {
          return failure(kConnectionClosed, ex.what());
        }
      });
}

void Upstream::cancel(uint64_t id, std::string_view reason) {
  std::string note;
  if (correlator_.abandon(id, note, kRequestTimeout, reason) && alive() && !cancel_in_transport(id))
    send_notification(std::move(note));
}

void Upstream::on_message(std::string_view text) {
  switch (correlator_.on_message(text)) {
    case Correlator::Incoming::kNotification:
      if (on_notification_) {
        // Copies: the handler may send requests, which reuse the correlator's parser.
        std::string method(correlator_.message().method);
        std::string params(correlator_.message().params);
        on_notification_(method, params);
      }
      break;
    case Correlator::Incoming::kRequest: {
      std::string id(correlator_.message().id);
      if (on_request_) {
        // Copies, as above: the handler may answer at once, which reuses the parser.
        std::string method(correlator_.message().method);
        std::string params(correlator_.message().params);
        on_request_(id, method, params);
        break;
      }
      // Without a handler: ping is answered; sampling, elicitation and roots are not offered
      // (no capability declared), so they get -32601.
      std::string out;
      if (correlator_.message().method == "ping")
        encode_result(out, id, "{}");
      else
        encode_error(out, id, kMethodNotFound, "Method not found");
      send_notification(std::move(out));
      break;
    }
    default:
      break;
  }
}

void Upstream::respond(std::string_view id, std::string_view result_json) {
  std::string out;
  encode_result(out, id, result_json.empty() ? std::string_view("{}") : result_json);
  if (alive()) send_notification(std::move(out));
}

void Upstream::respond_error(std::string_view id, int code, std::string_view message,
                             std::string_view data_json) {
  std::string out;
  encode_error(out, id, code, message, data_json);
  if (alive()) send_notification(std::move(out));
}

void Upstream::notify(std::string_view method, std::string_view params_json) {
  std::string out;
  Correlator::notification(out, method, params_json);
  if (alive()) send_notification(std::move(out));
}

void Upstream::closed_because(std::string_view reason) {
  if (closed_reported_) return;
  closed_reported_ = true;
  if (on_closed_) {
    ClosedFn fn = on_closed_;  // the handler may drop this upstream's handlers
    fn(reason);
  }
}

future<> Upstream::shutdown() {
  close();
  return make_ready_future<>();
}

future<> Upstream::start() {
  std::weak_ptr<Upstream> weak = weak_from_this();
  return open().then([weak]() -> future<> {
    auto self = weak.lock();
    if (!self) return make_exception_future<>(std::runtime_error("upstream closed"));
    if (!self->options_.handshake) return make_ready_future<>();
    if (!self->options_.probe_modern) return self->initialize();
    // 2026-07-28 server/discover.mdx: a modern server answers with its versions; a legacy one
    // refuses (method not found, or HTTP 400 without a session), and we initialize instead.
    self->modern_ = true;
    Request probe{"server/discover", {}, {}, {}};
    return self->call(probe).then([weak](Response r) -> future<> {
      auto self = weak.lock();
      if (!self) return make_exception_future<>(std::runtime_error("upstream closed"));
      if (r.ok && lists_modern(r.result)) {
        self->version_ = kModernProtocol;
        self->capabilities_ = member_json(r.result, "capabilities");
        self->listen();
        return make_ready_future<>();
      }
      self->modern_ = false;
      if (!self->alive())
        return make_exception_future<>(std::runtime_error("upstream closed during discovery"));
      return self->initialize();
    });
  });
}

future<> Upstream::initialize() {
  std::string members = R"("protocolVersion":")";
  members += kLegacyProtocol;
  members += R"(","capabilities":)";
  members += options_.capabilities;
  members += R"(,"clientInfo":{"name":)";
  append_string(members, options_.client_name);
  members += R"(,"version":)";
  append_string(members, options_.client_version);
  members += "}";
  std::weak_ptr<Upstream> weak = weak_from_this();
  return call(Request{"initialize", members, {}, {}}).then([weak](Response r) -> future<> {
    auto self = weak.lock();
    if (!self) return make_exception_future<>(std::runtime_error("upstream closed"));
    if (!r.ok)
      return make_exception_future<>(
          std::runtime_error("initialize failed: " + std::to_string(r.code) + " " + r.message));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view version;
    if (!parser.parse(r.result.data(), r.result.size()).get(doc) &&
        !doc["protocolVersion"].get_string().get(version))
      self->version_.assign(version);
    self->capabilities_ = member_json(r.result, "capabilities");
    self->server_info_ = member_json(r.result, "serverInfo");
    std::string note;
    Correlator::notification(note, "notifications/initialized", {});
    self->send_notification(std::move(note));
    self->listen();
    return make_ready_future<>();
  });
}

}  // namespace fa::mcp::client
