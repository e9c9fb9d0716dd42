// ServerCore: the MCP method dispatch of revision 2025-11-25 for any number of sessions —
// lifecycle, ping, listings with pagination, logging level, cancellation — and upcalls to the
// Application for tools/call, resources/read, prompts/get and completion/complete. No I/O:
// transports hand it message text and a Channel for what goes back.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mcp/application.h"
#include "mcp/channel.h"
#include "mcp/header_check.h"
#include "mcp/session.h"
#include "mcp/tasks.h"

namespace fa::mcp {

// Protocol revisions this server speaks, newest first (basic/lifecycle.mdx "Version Negotiation").
inline constexpr std::string_view kLatestVersion = "2025-11-25";
inline constexpr std::string_view kSupportedVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                          "2024-11-05"};
// The stateless revision, served per request to clients that send
// _meta["io.modelcontextprotocol/protocolVersion"] (2026-07-28 basic/versioning.mdx "Dual-era").
inline constexpr std::string_view kModernVersion = "2026-07-28";
// True for a version initialize can negotiate.
bool is_supported_version(std::string_view version);
// True for any version this server speaks (the MCP-Protocol-Version header).
bool is_known_version(std::string_view version);

struct ServerInfo {
  std::string name;
  std::string version;
  std::string title;         // optional
  std::string instructions;  // optional
};

// What handle() did with one message.
enum class Outcome : uint8_t {
  kAnswered,  // a response or error was sent on the channel
  kPending,   // the application owes the response (it arrives on the channel later)
  kNoReply,   // a notification or a response: nothing goes back (HTTP answers 202)
};

class ServerCore {
 public:
  // Items per page of tools/list, resources/list, ... (server/utilities/pagination.mdx).
  static constexpr size_t kDefaultPageSize = 100;

  ServerCore(Application& app, ServerInfo info);
  virtual ~ServerCore() = default;

  // Registrations take the item's descriptor as pre-encoded JSON (a Tool, Resource,
  // ResourceTemplate or Prompt object of schema.ts) and return its index for Call::index.
  // Registering a name again replaces the descriptor and keeps the index.
  int add_tool(std::string name, std::string descriptor_json);
  int add_resource(std::string uri, std::string descriptor_json);
  void add_resource_template(std::string descriptor_json);
  int add_prompt(std::string name, std::string descriptor_json);
  // Withdraws a tool or prompt (its index is never reused); false when the name is unknown.
  bool remove_tool(std::string_view name) { return remove(tools_, name); }
  bool remove_prompt(std::string_view name) { return remove(prompts_, name); }
  bool remove_resource(std::string_view uri) { return remove(resources_, uri); }
  void set_completions(bool enabled) { completions_ = enabled; }
  // Serves the tasks extension (SEP-2663) to 2026-07-28 clients: advertised by server/discover,
  // tasks/get, tasks/update, tasks/cancel served, tool calls may become tasks (Reply::create_task).
  void set_tasks(bool enabled) { tasks_enabled_ = enabled; }
  TaskStore& tasks() { return *tasks_; }
  void set_page_size(size_t n) { page_size_ = n ? n : 1; }

  // Handles one message from `session`. Never throws on bad input: the errors the spec asks
  // for go to `channel`. Virtual so a proxy (mcp/proxy/proxy_core.h) can take some methods
  // before the built-in dispatch.
  virtual Outcome handle(const std::shared_ptr<Session>& session, std::string_view text,
                 const std::shared_ptr<Channel>& channel);

  // The arguments tool `name` mirrors into Mcp-Param-* headers (its x-mcp-header annotations).
  void set_tool_headers(std::string_view name, std::vector<ParamHeader> params);

  // Cancels every request the session still has in flight (a transport closing).
  virtual void end_session(Session& session);
  // Cancels one in-flight request by its id (raw JSON token); unknown ids are ignored.
  void cancel_request(Session& session, std::string_view id);

  const ServerInfo& info() const { return info_; }

  // notifications/{tools,prompts,resources}/list_changed to every session that has a channel
  // for unsolicited messages (server/tools.mdx "List Changed Notification"); `what` is
  // "tools", "prompts" or "resources". Returns how many sessions were told.
  size_t notify_list_changed(std::string_view what);
  // notifications/resources/updated to the sessions subscribed to `uri` (server/resources.mdx
  // "Subscriptions"). Returns how many sessions were told.
  size_t notify_resource_updated(std::string_view uri);
  // Sessions the core knows of (initialized 2025-11-25 sessions and 2026-07-28 listeners).
  void track(const std::shared_ptr<Session>& session);

 private:
  // Transparent hash: names are looked up by the parser's string_view without a copy.
  // Eight bytes at a time, multiply-mixed (every byte counts): a call hashes its tool's name
  // once, and std::hash's byte-wise murmur was a visible part of a call's cost.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      constexpr uint64_t k = 0x9E3779B97F4A7C15ull;
      uint64_t h = s.size() * k;
      size_t i = 0;
      for (; i + 8 <= s.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
      }
      uint64_t tail = 0;
      for (; i < s.size(); ++i) tail = tail << 8 | static_cast<unsigned char>(s[i]);
      h = (h ^ tail) * 0xBF58476D1CE4E5B9ull;
      return static_cast<size_t>(h ^ (h >> 31));
    }
  };
  struct Listing {
    std::string key;  // "tools", "resources", ...
    std::vector<std::string> items;
    std::unordered_map<std::string, int, NameHash, std::equal_to<>> index;  // found by string_view
  };
  int add(Listing& listing, std::string name, std::string descriptor_json);
  bool remove(Listing& listing, std::string_view name);
  size_t broadcast(std::string_view message, std::string_view subscribed_uri);
  void response(Session& session, const Message& msg);
  Outcome dispatch(const std::shared_ptr<Session>& session, const Message& msg,
                   const std::shared_ptr<Channel>& channel);
  Outcome upcall(const std::shared_ptr<Session>& session, const Message& msg,
                 const std::shared_ptr<Channel>& channel, CallKind kind);
  void initialize(Session& session, const Message& msg, std::string& result);
  void discover(std::string& result);
  void capabilities(std::string& out, bool modern = false);
  // True when the 2026-07-28 request declared the tasks extension in its client capabilities.
  bool declares_tasks(const Message& msg);
  Outcome task_method(const Message& msg, const std::shared_ptr<Channel>& channel);
  void notify_task(const Task& task);
  bool list(Session& session, const Listing& listing, const Message& msg, std::string& result);
  void notification(Session& session, const Message& msg);

  Application& app_;
  ServerInfo info_;
  Listing tools_{"tools", {}, {}}, resources_{"resources", {}, {}},
      templates_{"resourceTemplates", {}, {}}, prompts_{"prompts", {}, {}};
  bool completions_ = false;
  size_t page_size_ = kDefaultPageSize;
  uint64_t next_call_id_ = 1;
  std::string out_;  // reused envelope buffer
  std::vector<std::weak_ptr<Session>> sessions_;
  // 2026-07-28 subscriptions/listen streams (basic/patterns/subscriptions.mdx).
  struct Listener {
    std::weak_ptr<Session> session;
    std::shared_ptr<Channel> channel;
    std::string id;  // the listen request's raw id: the subscription id
    uint64_t call_id = 0;
    bool tools = false, prompts = false, resources = false;
    std::vector<std::string> uris;
    std::vector<std::string> task_ids;  // notifications/tasks (SEP-2663)
  };
  std::vector<Listener> listeners_;
  Outcome listen(const std::shared_ptr<Session>& session, const Message& msg,
                 const std::shared_ptr<Channel>& channel);
  std::vector<std::vector<ParamHeader>> tool_headers_;  // by tool index
  Parser aux_;  // reads members of params the one-pass parse does not keep
  std::shared_ptr<Reply::State> reply_cache_;
  bool tasks_enabled_ = false;
  std::shared_ptr<TaskStore> tasks_ = std::make_shared<TaskStore>();  // Replies hold it weakly  // reused by the next call once unreferenced
};

}  // namespace fa::mcp
