// EventLog: bounded per-session SSE replay buffer.
#include "mcp/event_log.h"

#include <charconv>

namespace fa::mcp {

namespace {

bool parse_id(std::string_view id, uint64_t& stream, uint64_t& seq) {
  size_t dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size()) return false;
  auto [a, ea] = std::from_chars(id.data(), id.data() + dash, stream);
  auto [b, eb] = std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
  return ea == std::errc() && eb == std::errc() && a == id.data() + dash &&
         b == id.data() + id.size();
}

}  // namespace

std::string EventLog::append(uint64_t stream, std::string_view message) {
  if (next_seq_.size() <= stream) next_seq_.resize(stream + 1, 1);
  uint64_t seq = next_seq_[stream]++;
  events_.push_back(Event{stream, seq, std::string(message)});
  bytes_ += message.size();
  while (!events_.empty() && (events_.size() > max_events_ || bytes_ > max_bytes_)) {
    bytes_ -= events_.front().message.size();
    events_.pop_front();
  }
  return std::to_string(stream) + "-" + std::to_string(seq);
}

std::optional<uint64_t> EventLog::stream_of(std::string_view last_event_id) {
  uint64_t stream, seq;
  if (!parse_id(last_event_id, stream, seq)) return std::nullopt;
  return stream;
}

bool EventLog::replay(std::string_view last_event_id,
                      const std::function<void(std::string_view, std::string_view)>& fn) const {
  uint64_t stream, seq;
  if (!parse_id(last_event_id, stream, seq) || stream >= next_seq_.size()) return false;
  for (const Event& e : events_) {
    if (e.stream != stream || e.seq <= seq) continue;
    std::string id = std::to_string(e.stream) + "-" + std::to_string(e.seq);
    fn(id, e.message);
  }
  return true;
}

}  // namespace fa::mcp
