// ProxyCore: many upstream MCP servers behind one endpoint. It is a ServerCore (initialize,
// ping, discover, logging, cancellation notifications are served as by any of our servers)
// that takes the forwarded methods first:
//  - tools/call, prompts/get, resources/read, completion/complete go to the upstream their
//    qualified name or URI names (names.h), with only the name/URI rewritten; the answer's
//    JSON goes back as it came (the 2026-07-28 result members are re-shaped for the client's
//    era). No Python on this path.
//  - tools/list, prompts/list, resources/list, resources/templates/list ask every upstream at
//    once (when_all); each upstream's pages are followed, retried on a transport failure
//    (retry), qualified and merged into one page; an upstream that fails is left out and logged.
//  - progress notifications are relayed (a proxy token per forwarded request), a client's
//    cancellation becomes notifications/cancelled upstream, timeouts come from with_timeout.
// A circuit breaker per upstream refuses calls with kUpstreamUnavailable while open; stdio
// clients are rate-limited here (HTTP clients by the HTTP front, before the transport).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "core/future.h"
#include "core/retry.h"
#include "mcp/client/upstream.h"
#include "mcp/proxy/breaker.h"
#include "mcp/proxy/rate_limit.h"
#include "mcp/server_core.h"

namespace fa::mcp::proxy {

// JSON-RPC server-error codes (JSON-RPC 2.0 §5.1 leaves -32000..-32099 to implementations).
inline constexpr int kUpstreamUnavailable = -32010;  // breaker open, or the upstream is down
inline constexpr int kRateLimited = -32029;          // the client's token bucket is empty

struct ProxyOptions {
  BreakerOptions breaker;
  RateLimitOptions rate_limit;
  bool limit_in_core = false;  // stdio: every request counts against one key, "stdio"
  size_t max_pages = 100;      // pages followed per upstream listing
  // How long a call whose upstream asked for input waits for the 2026-07-28 client's retry
  // (with inputResponses) before it is cancelled upstream.
  Duration input_ttl = std::chrono::minutes(10);
  retry_policy list_retry{.max_retries = 2,
                          .initial_delay = std::chrono::milliseconds(50),
                          .backoff = 2.0,
                          .max_delay = std::chrono::seconds(1),
                          .jitter = 0.1,
                          .retry_if = {},
                          .random = {}};
};

class ProxyCore final : public ServerCore, public Application {
 public:
  using Factory = std::function<std::shared_ptr<client::Upstream>()>;

  ProxyCore(EventLoop& loop, ServerInfo info, ProxyOptions options);
  ~ProxyCore() override;

  // Adds an upstream made by `factory` (called again to reconnect once the breaker lets a probe
  // through to a dead upstream). Throws std::invalid_argument for a bad or duplicate name.
  void add_upstream(const std::string& name, Factory factory);
  // Starts every upstream at once; resolves when all have succeeded or failed (failures are
  // logged, and the upstream is retried on its next call). Never fails.
  future<> start();
  // Closes every upstream (pending calls fail; stdio children get EOF, then SIGTERM/SIGKILL).
  void close();
  // True once every closed upstream is gone (its child reaped): run the loop until then.
  bool closed() const;

  Outcome handle(const std::shared_ptr<Session>& session, std::string_view text,
                 const std::shared_ptr<Channel>& channel) override;

  // Application (the proxy registers nothing, so ServerCore never upcalls; cancel comes from
  // notifications/cancelled and from transports whose client left).
  void call(const Call& call, Reply reply) override;
  void cancel(uint64_t call_id) override;
  // The client answered a server-to-client request the proxy relayed from an upstream
  // (forward_upstream.cpp): the answer goes back to that upstream under its own id.
  void response(uint64_t number, bool ok, std::string_view json) override;

  RateLimiter& limiter() { return limiter_; }
  void set_limit_in_core(bool on) { options_.limit_in_core = on; }
  // {"<name>":{"state":"closed","failures":0,"alive":true,"era":"2025-11-25"},...}
  std::string status_json();
  size_t in_flight() const { return calls_.size(); }

 private:
  struct Entry;
  // A server-to-client request of the upstream's, put to a 2026-07-28 client as an entry of
  // an InputRequiredResult (basic/patterns/mrtr.mdx), awaiting its inputResponses.
  struct Asked {
    std::string key;          // the inputRequests key
    std::string upstream_id;  // the upstream's raw JSON id, answered with the client's response
    std::string request;      // {"method":...,"params":...}
    std::weak_ptr<client::Upstream> upstream;  // the connection that asked
  };
  struct InFlight {
    std::shared_ptr<Entry> entry;
    uint64_t upstream_id = 0;
    uint64_t call_id = 0;
    Reply reply;  // the client's request (its latest retry), for what the upstream sends
    // 2026-07-28 clients: the request's clientCapabilities, and what the retry must name.
    std::string capabilities, method, name;
    // Input rounds: the requestState handed out (empty before the first), what is asked.
    std::string state;
    std::vector<Asked> asked;
    uint64_t next_key = 1;
    TimerId expiry = 0;
  };
  // A server-to-client request relayed to a client, awaiting its answer.
  struct Relayed {
    std::weak_ptr<client::Upstream> upstream;
    std::string id;  // the upstream's raw JSON id
  };
  Entry* find(std::string_view name);
  // Starts (or restarts, through the factory) an upstream; concurrent callers share one start.
  future<> ensure_started(const std::shared_ptr<Entry>& e);
  future<client::Response> call_upstream(const std::shared_ptr<Entry>& e,
                                         const client::Request& request,
                                         const std::shared_ptr<InFlight>& flight);
  Outcome forward(const std::shared_ptr<Session>& session, const Message& msg,
                  const std::shared_ptr<Channel>& channel, std::string_view upstream,
                  std::string members, std::string name, bool cacheable);
  Outcome list(const std::shared_ptr<Session>& session, const Message& msg,
               const std::shared_ptr<Channel>& channel, std::string_view key,
               std::string_view field, bool is_uri);
  future<std::string> list_from(const std::shared_ptr<Entry>& e, std::string method,
                                std::string key, std::string field, bool is_uri);
  Outcome refuse(const Message& msg, const std::shared_ptr<Channel>& channel, int code,
                 std::string_view message, std::string_view data = {});
  void on_upstream_notification(Entry& e, std::string_view method, std::string_view params);
  // forward_upstream.cpp: what an upstream sends on its own. list_changed becomes the proxy's
  // own list_changed, resources/updated is relayed with the namespaced URI, logging goes to
  // the client whose call it came with; server-to-client requests (sampling, elicitation,
  // roots) go to the client whose call is in flight on that upstream, and its answer back.
  void relay_notification(Entry* e, std::string_view name, client::Upstream* up,
                          std::string_view method, std::string_view params);
  void relay_request(Entry* e, client::Upstream* up, std::string_view id,
                     std::string_view method, std::string_view params);
  InFlight* caller_of(Entry* e, client::Upstream* up);
  // input_rounds.cpp: server-to-client requests as 2026-07-28 input rounds. ask_input() adds
  // one to the call's InputRequiredResult (sent at once when the client is waiting);
  // resume() takes the client's retry: its inputResponses go upstream, and the retry becomes
  // the request the upstream's answer goes to.
  void ask_input(InFlight& f, client::Upstream* up, std::string_view id, std::string_view method,
                 std::string_view params);
  void send_input_required(InFlight& f);
  Outcome resume(const std::shared_ptr<Session>& session, const Message& msg,
                 const std::shared_ptr<Channel>& channel, std::string_view state,
                 std::string_view responses, bool cacheable);
  void end_rounds(InFlight& f);
  // A 2026-07-28 retry (requestState, inputResponses in params): true with `out` set when the
  // state is the proxy's (resume()); an upstream's own state and responses are added to
  // `members` for the upstream, and false is returned.
  bool retry_of(const std::shared_ptr<Session>& session, const Message& msg,
                const std::shared_ptr<Channel>& channel, std::string& members, bool cacheable,
                Outcome& out);
  void erase_call(uint64_t call_id);
  void subscribe_upstream(std::string_view method, std::string_view qualified_uri);
  client::Upstream* upstream_of(std::string_view name);  // started and alive, else null
  Reply make_reply(const std::shared_ptr<Session>& session, const Message& msg,
                   const std::shared_ptr<Channel>& channel, bool cacheable, uint64_t& call_id);

  EventLoop& loop_;
  ProxyOptions options_;
  RateLimiter limiter_;
  std::vector<std::shared_ptr<Entry>> entries_;
  std::unordered_map<uint64_t, std::shared_ptr<InFlight>> calls_;  // call id -> upstream request
  std::unordered_map<uint64_t, Reply> progress_;  // proxy progress token -> the client's request
  std::unordered_map<uint64_t, Relayed> relayed_;  // Reply::request number -> upstream request
  std::unordered_map<std::string, std::shared_ptr<InFlight>> parked_;  // requestState -> call
  uint64_t next_call_id_ = 1, next_token_ = 1;
  Parser parser_;
  std::string out_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fa::mcp::proxy
