// Event and its wire framing (WHATWG HTML §9.2.6 "Authoring notes", §9.2.5 "Parsing an event
// stream"): fields in "name: value\n" lines, data split on CR, LF or CRLF, a blank line ends
// the event. Sans-I/O: it only appends bytes to a string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fa::sse {

struct Event {
  std::optional<std::string_view> data;     // each line becomes a `data:` line
  std::string_view event;                   // `event:` type (empty = "message")
  std::optional<std::string_view> id;       // `id:` (an empty id resets the last event id)
  int64_t retry_ms = -1;                    // `retry:` reconnection time in ms; -1 = none
  std::optional<std::string_view> comment;  // `:` lines, ignored by clients (keep-alives)
};

enum class FrameError : uint8_t {
  kNone,
  kEventHasLineBreak,  // `event` contains CR or LF: it would end the field early
  kIdHasLineBreak,     // `id` contains CR or LF
  kIdHasNul,           // `id` contains NUL: clients ignore such an id (§9.2.5)
};

// A readable reason for an error code ("" for kNone).
std::string_view frame_error_reason(FrameError e);

// Appends the event's lines and the blank line that dispatches it to `out`. On error appends
// nothing and returns the error. An event with no fields at all appends nothing.
FrameError append_event(std::string& out, const Event& ev);

// A keep-alive comment (": ping\n\n"): keeps proxies from timing the stream out.
inline constexpr std::string_view kPing = ": ping\n\n";

}  // namespace fa::sse
