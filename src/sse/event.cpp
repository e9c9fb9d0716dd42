// Event framing (WHATWG HTML §9.2.5-9.2.6).
#include "sse/event.h"

#include <charconv>

namespace fa::sse {

namespace {

// Appends "<prefix><line>\n" for each line of `text`, lines ending at CR, LF or CRLF
// (§9.2.5: all three end a line for the client, so each must start a new field line).
void append_lines(std::string& out, std::string_view prefix, std::string_view text) {
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\r' && c != '\n') continue;
    out.append(prefix).append(text.substr(start, i - start)).push_back('\n');
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  out.append(prefix).append(text.substr(start)).push_back('\n');
}

bool has_line_break(std::string_view v) {
  return v.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

std::string_view frame_error_reason(FrameError e) {
  switch (e) {
    case FrameError::kEventHasLineBreak:
      return "event name must not contain CR or LF";
    case FrameError::kIdHasLineBreak:
      return "event id must not contain CR or LF";
    case FrameError::kIdHasNul:
      return "event id must not contain NUL";
    case FrameError::kNone:
      break;
  }
  return "";
}

FrameError append_event(std::string& out, const Event& ev) {
  if (has_line_break(ev.event)) return FrameError::kEventHasLineBreak;
  if (ev.id) {
    if (has_line_break(*ev.id)) return FrameError::kIdHasLineBreak;
    if (ev.id->find('\0') != std::string_view::npos) return FrameError::kIdHasNul;
  }
  size_t before = out.size();
  // Field order as FastAPI writes it (comment, event, data, id, retry): a client applies them
  // at dispatch in any order (WHATWG HTML §9.2.6), but tests compare bytes.
  if (ev.comment) append_lines(out, ": ", *ev.comment);
  if (!ev.event.empty()) out.append("event: ").append(ev.event).push_back('\n');
  if (ev.data) append_lines(out, "data: ", *ev.data);
  if (ev.id) out.append("id: ").append(*ev.id).push_back('\n');
  if (ev.retry_ms >= 0) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, ev.retry_ms);
    out.append("retry: ").append(buf, r.ptr).push_back('\n');
  }
  if (out.size() != before) out.push_back('\n');
  return FrameError::kNone;
}

}  // namespace fa::sse
