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
//    cancellation becomes notifications/cancelled upstream; a forwarded call's timeout is its
//    upstream's deadline list (watch()), a listing's page is bounded by with_timeout.
// A circuit breaker per upstream refuses calls with kUpstreamUnavailable while open; stdio
// clients are rate-limited here (HTTP clients by the HTTP front, before the transport).
// What clients ask of upstreams beyond one call is kept per client and reconciled per upstream
// (forward_upstream.cpp): the most verbose logging/setLevel of the
// connected 2025-11-25 clients goes to each 2025-11-25 upstream that declared `logging`; a
// resource subscription is counted per client (resources/subscribe of a 2025-11-25 session, a
// 2026-07-28 client's open subscriptions/listen), and an upstream is subscribed while any
// client wants the URI: resources/subscribe / resources/unsubscribe (2025-11-25), or its
// subscriptions/listen replaced by one with the new set (2026-07-28).
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
  // InputRequiredResult rounds of a 2026-07-28 upstream driven for one 2025-11-25 client's call
  // (upstream_rounds.cpp) before it fails (the official SDKs' client default).
  size_t max_input_rounds = 10;
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
  // A session that ends (HTTP DELETE, stdio EOF) takes its log level and subscriptions along.
  void end_session(Session& session) override;

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
  struct UpstreamRounds;
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
    // A 2025-11-25 client's call whose 2026-07-28 upstream asked for input (upstream_rounds.cpp).
    std::shared_ptr<UpstreamRounds> rounds;
  };
  // What one retry of a 2026-07-28 upstream's input round is built from.
  struct UpstreamRounds {
    std::string_view method;         // a string literal (forwarded_method())
    std::string members, name;       // the request's members upstream, without the round's
    uint64_t token = 0;              // the proxy's progressToken upstream, 0 for none
    std::string state;               // the upstream's requestState (JSON string), empty for none
    std::string answers;             // "key":result,... collected from the client
    size_t awaiting = 0, count = 0;  // requests the client has not answered; rounds so far
    std::vector<uint64_t> asked;     // relayed_ numbers of this round's requests
  };
  // A server-to-client request relayed to a client, awaiting its answer.
  struct Relayed {
    std::weak_ptr<client::Upstream> upstream;
    std::string id;  // the upstream's raw JSON id
    // Or: an entry of a 2026-07-28 upstream's inputRequests, asked of a 2025-11-25 client.
    std::weak_ptr<InFlight> round;
    std::string key;
  };
  Entry* find(std::string_view name);
  // Starts (or restarts, through the factory) an upstream; concurrent callers share one start.
  future<> ensure_started(const std::shared_ptr<Entry>& e);
  future<client::Response> call_upstream(const std::shared_ptr<Entry>& e,
                                         const client::Request& request,
                                         const std::shared_ptr<InFlight>& flight);
  // Forwarded calls are sent without a timer of their own (Request::timeout 0): each is put on
  // its upstream's deadline list (in send order, so in deadline order), and one timer per
  // upstream, armed for the oldest, cancels what is still in flight at its deadline as the
  // upstream's timeout would (kRequestTimeout, notifications/cancelled).
  void watch(const std::shared_ptr<Entry>& e, uint64_t call_id, uint64_t upstream_id);
  void arm_sweep(const std::shared_ptr<Entry>& e);
  void sweep(const std::shared_ptr<Entry>& e);
  void forget_answered(Entry& e);
  // The upstream answered a forwarded call (or failed): the client's request is answered, or,
  // for a 2025-11-25 client's InputRequiredResult, the round is driven (upstream_rounds.cpp).
  void answered(const std::shared_ptr<Entry>& e, const std::shared_ptr<InFlight>& flight,
                uint64_t token, client::Response r, std::string_view method, std::string& members,
                std::string& name);
  void end_call(Entry& e, InFlight& f, uint64_t token);
  // upstream_rounds.cpp (SEP-2322 for a 2025-11-25 client, which is served "according to the
  // negotiated legacy revision", 2026-07-28 basic/versioning.mdx): each of the upstream's
  // inputRequests goes to the client as the request it names, on the call's stream; once all
  // are answered the call is sent again with inputResponses and the requestState. False when
  // the call was answered (with an error) instead.
  bool ask_client(const std::shared_ptr<Entry>& e, const std::shared_ptr<InFlight>& flight,
                  uint64_t token, std::string_view method, std::string& members, std::string& name,
                  std::string_view result);
  void round_answer(const std::shared_ptr<InFlight>& flight, std::string_view key, bool ok,
                    std::string_view json);
  void retry_upstream(const std::shared_ptr<InFlight>& flight);
  void forget_round(UpstreamRounds& rounds);
  // The legacy client's initialize capabilities reduced to what a 2026-07-28 server may ask
  // for (sampling, elicitation, roots), as _meta clientCapabilities; cached by content.
  std::string_view legacy_capabilities(std::string_view declared);
  // 2025-11-25 sessions past notifications/initialized: where an upstream's log message that
  // came with no call goes (relay_log()).
  void relay_log(std::string_view params);
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
  void relay_request(Entry* e, client::Upstream* up, std::string_view id, std::string_view method,
                     std::string_view params);
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
  // What one client asks of upstreams beyond its calls: its logging/setLevel (2025-11-25) and
  // the resources it subscribed to with resources/subscribe (qualified URIs). Kept here, not
  // on the Session, so a session's end is released once.
  struct Interest {
    std::weak_ptr<Session> session;
    bool has_level = false;
    LogLevel level = LogLevel::kDebug;
    std::vector<std::string> uris;
  };
  Interest& interest_of(const std::shared_ptr<Session>& session);
  // Drops the records of sessions that are gone (releasing their subscriptions).
  void purge_interests();
  // One more (or one fewer) client subscription to a qualified URI. The upstream is told when
  // the first comes or the last goes (sync_subscriptions, deferred: changes of one loop turn
  // become one message).
  void acquire(std::string_view qualified_uri);
  void release(std::string_view qualified_uri);
  void schedule_sync(Entry& e);
  // Reconciles what the upstream connection was told with what clients want: resources/
  // subscribe|unsubscribe for a 2025-11-25 upstream, a new subscriptions/listen for a
  // 2026-07-28 one when its set of URIs changed (or none is open).
  void sync_subscriptions(Entry& e);
  // 2025-11-25 server/utilities/logging.mdx: the level is one per connection, so the proxy asks
  // each 2025-11-25 upstream that declared `logging` for the most verbose level any connected
  // client set (each client's own level still filters what it gets: Reply::log, relay_log).
  void sync_levels();
  void sync_level(Entry& e, LogLevel level);
  // The most verbose level a connected client set; false when none set one.
  bool wanted_level(LogLevel& level);
  // A 2026-07-28 upstream sends what happens outside any call only on a subscriptions/listen
  // stream (2026-07-28 basic/patterns/subscriptions.mdx): one is kept open on it for the list
  // changes and the resources clients subscribed to, replaced when that set changes.
  void listen_upstream(Entry& e);
  // The channel the core keeps for a 2026-07-28 client's listen naming `uris` (qualified):
  // they count while it lives (forward_upstream.cpp).
  class ListenChannel;
  std::shared_ptr<Channel> listen_channel(std::shared_ptr<Channel> inner,
                                          std::vector<std::string> uris);
  client::Upstream* upstream_of(std::string_view name);  // started and alive, else null
  Reply make_reply(const std::shared_ptr<Session>& session, const Message& msg,
                   const std::shared_ptr<Channel>& channel, bool cacheable, uint64_t& call_id);

  EventLoop& loop_;
  ProxyOptions options_;
  RateLimiter limiter_;
  std::vector<std::shared_ptr<Entry>> entries_;
  std::unordered_map<uint64_t, std::shared_ptr<InFlight>> calls_;  // call id -> upstream request
  std::unordered_map<uint64_t, Reply> progress_;   // proxy progress token -> the client's request
  std::unordered_map<uint64_t, Relayed> relayed_;  // Reply::request number -> upstream request
  std::unordered_map<std::string, std::shared_ptr<InFlight>> parked_;  // requestState -> call
  std::vector<std::weak_ptr<Session>> legacy_sessions_;  // initialized, for relay_log()
  std::vector<Interest> interests_;                      // per client session (Interest)
  std::string caps_declared_, caps_modern_;              // legacy_capabilities()' cache
  uint64_t next_call_id_ = 1, next_token_ = 1;
  Parser parser_;
  std::string out_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fa::mcp::proxy
