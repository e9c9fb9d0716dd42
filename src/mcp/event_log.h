// EventLog: the SSE events one Streamable HTTP session sent, kept for replay (2025-11-25
// basic/transports.mdx "Resumability and Redelivery"). Event ids are "<stream>-<seq>": unique
// across the session's streams and naming the stream they belong to, so a client's
// Last-Event-ID replays only what followed on that stream. Bounded: the oldest events go first.
// No I/O.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace fa::mcp {

class EventLog {
 public:
  static constexpr size_t kDefaultMaxEvents = 256;
  static constexpr size_t kDefaultMaxBytes = 1024 * 1024;

  explicit EventLog(size_t max_events = kDefaultMaxEvents, size_t max_bytes = kDefaultMaxBytes)
      : max_events_(max_events), max_bytes_(max_bytes) {}

  // A new stream's number (0 is the session's GET stream).
  uint64_t open_stream() { return next_stream_++; }
  // Records `message` as the next event of `stream`; returns its event id.
  std::string append(uint64_t stream, std::string_view message);
  // The stream a Last-Event-ID names, if it is one of ours ("<stream>-<seq>").
  static std::optional<uint64_t> stream_of(std::string_view last_event_id);
  // Calls fn(id, message) for each kept event of the stream named by `last_event_id` that came
  // after it, oldest first. False when the id is malformed or names no stream of this session.
  bool replay(std::string_view last_event_id,
              const std::function<void(std::string_view id, std::string_view message)>& fn) const;

 private:
  struct Event {
    uint64_t stream, seq;
    std::string message;
  };
  std::deque<Event> events_;
  std::deque<uint64_t> next_seq_;  // by stream
  uint64_t next_stream_ = 0;
  size_t bytes_ = 0, max_events_, max_bytes_;
};

}  // namespace fa::mcp
