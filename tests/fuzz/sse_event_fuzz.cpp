// libFuzzer target: SSE framing (src/sse/event.h). Splits the input into data/event/id/comment,
// frames it, then parses the bytes back as a client would (WHATWG HTML §9.2.5) and checks the
// round trip: the data a client sees (lines joined with LF) is the input's data with CR/CRLF
// line ends read as LF; the event type and id come back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sse/event.h"

namespace {

struct Parsed {
  std::string data, event, id;
  bool has_data = false, has_id = false;
};

// The client's line-by-line field parser (§9.2.5), for one event.
Parsed parse(std::string_view s) {
  Parsed p;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t eol = s.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) std::abort();  // every line must be terminated
    std::string_view line = s.substr(pos, eol - pos);
    pos = eol + (s[eol] == '\r' && eol + 1 < s.size() && s[eol + 1] == '\n' ? 2 : 1);
    if (line.empty()) break;  // dispatch
    if (line[0] == ':') continue;
    size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon), value;
    if (colon != std::string_view::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    }
    if (name == "data") {
      if (p.has_data) p.data.push_back('\n');
      p.data.append(value);
      p.has_data = true;
    } else if (name == "event") {
      p.event = value;
    } else if (name == "id") {
      p.id = value;
      p.has_id = true;
    }
  }
  if (pos != s.size()) std::abort();  // one event, nothing after its blank line
  return p;
}

std::string normalize_breaks(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(bytes), size);
  // Fields separated by 0xFF: data, event, id, comment.
  std::string_view parts[4];
  for (auto& part : parts) {
    size_t sep = in.find('\xff');
    part = in.substr(0, sep);
    in = sep == std::string_view::npos ? std::string_view() : in.substr(sep + 1);
  }
  fa::sse::Event ev;
  ev.data = parts[0];
  ev.event = parts[1];
  if (!parts[2].empty()) ev.id = parts[2];
  if (!parts[3].empty()) ev.comment = parts[3];
  std::string out;
  fa::sse::FrameError err = fa::sse::append_event(out, ev);
  if (err != fa::sse::FrameError::kNone) {
    if (!out.empty()) std::abort();  // nothing appended on error
    return 0;
  }
  Parsed p = parse(out);
  if (!p.has_data || p.data != normalize_breaks(parts[0])) std::abort();
  if (p.event != parts[1]) std::abort();
  if (ev.id && (!p.has_id || p.id != *ev.id)) std::abort();
  return 0;
}
