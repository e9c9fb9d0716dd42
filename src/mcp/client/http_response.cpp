#include "mcp/client/http_response.h"

#include <algorithm>
#include <charconv>

namespace fa::mcp::client {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Case-insensitive: does the comma-separated list `value` contain `token`?
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    if (item.size() == token.size() &&
        std::equal(item.begin(), item.end(), token.begin(),
                   [](char a, char b) { return lower(a) == lower(b); }))
      return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// The last item of a comma-separated list, trimmed.
std::string_view last_token(std::string_view value) {
  size_t comma = value.rfind(',');
  return trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
}

// RFC 9110 §5.6.2 tchar.
constexpr auto kTchar = [] {
  struct Table {
    bool v[256] = {};
  } t;
  for (int c = 0; c < 256; ++c)
    t.v[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) t.v[c] = true;
  return t;
}();

bool is_tchar(char c) {
  return kTchar.v[static_cast<unsigned char>(c)];
}

// Index just past the blank line ending a head in `s` (searching from `from`), or npos.
// Lines end in CRLF or a bare LF (RFC 9112 §2.2 lets a recipient accept LF).
size_t head_end(std::string_view s, size_t from) {
  for (size_t p = s.find('\n', from); p != std::string_view::npos; p = s.find('\n', p + 1)) {
    if (p + 1 < s.size() && s[p + 1] == '\n') return p + 2;
    if (p + 2 < s.size() && s[p + 1] == '\r' && s[p + 2] == '\n') return p + 3;
  }
  return std::string_view::npos;
}

constexpr uint64_t kMaxChunk = uint64_t{1} << 40;

}  // namespace

std::string_view ResponseHead::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

bool ResponseHead::has_header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return true;
  return false;
}

size_t HttpResponseParser::fail(std::string_view why) {
  state_ = State::kError;
  error_.assign(why);
  keep_alive_ = false;
  return 0;
}

void HttpResponseParser::reset(bool head_request) {
  head_request_ = head_request;
  state_ = State::kHead;
  buf_.clear();
  error_.clear();
  head_.status = 0;
  head_.minor_version = 1;
  head_.reason.clear();
  // The header strings are kept for the next head (no allocation per response once warm).
  if (spare_.empty()) spare_.swap(head_.headers);
  head_.headers.clear();
  left_ = 0;
  keep_alive_ = false;
}

bool HttpResponseParser::parse_head(std::string_view head) {
  head_.status = 0;
  head_.minor_version = 1;
  head_.reason.clear();
  if (head_.headers.empty()) head_.headers.swap(spare_);
  size_t count = 0;  // entries of head_.headers filled; the rest are reused, or dropped at exit
  struct Trim {
    std::vector<std::pair<std::string, std::string>>& headers;
    const size_t& count;
    ~Trim() { headers.resize(count); }
  } trim_at_exit{head_.headers, count};
  auto next_line = [&](std::string_view& line) {
    size_t nl = head.find('\n');
    if (nl == std::string_view::npos) return false;
    line = head.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    head.remove_prefix(nl + 1);
    return true;
  };
  std::string_view line;
  if (!next_line(line)) return false;
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[7] < '0' || line[7] > '9' ||
      line[8] != ' ')
    return fail("malformed status line"), false;
  head_.minor_version = line[7] - '0';
  for (int k = 9; k < 12; ++k)
    if (line[k] < '0' || line[k] > '9') return fail("malformed status code"), false;
  head_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (head_.status < 100) return fail("malformed status code"), false;
  if (line.size() > 12) {
    if (line[12] != ' ') return fail("malformed status line"), false;
    head_.reason.assign(line.substr(13));
  }
  while (next_line(line)) {
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t')
      return fail("obsolete header line folding"), false;
    // field-name = token (RFC 9110 §5.1), then ':'; read in one pass.
    size_t colon = 0;
    while (colon < line.size() && is_tchar(line[colon])) ++colon;
    if (colon == 0 || colon == line.size() || line[colon] != ':') {
      colon = line.find(':');
      if (colon == 0 || colon == std::string_view::npos)
        return fail("malformed header line"), false;
      return fail("malformed header name"), false;
    }
    if (count >= kMaxHeaders) return fail("too many headers"), false;
    if (count == head_.headers.size()) head_.headers.emplace_back();
    auto& [key, value] = head_.headers[count++];
    key.resize(colon);
    for (size_t k = 0; k < colon; ++k) key[k] = lower(line[k]);
    value.assign(trim(line.substr(colon + 1)));
  }
  head_.headers.resize(count);
  bool close = false, keep = false;
  for (const auto& [k, v] : head_.headers)
    if (k == "connection") {
      close = close || has_token(v, "close");
      keep = keep || has_token(v, "keep-alive");
    }
  keep_alive_ = head_.minor_version >= 1 ? !close : keep && !close;
  return true;
}

bool HttpResponseParser::start_body(ResponseSink& sink) {
  const int s = head_.status;
  if (head_request_ || s == 204 || s == 304 || (s >= 100 && s < 200)) {
    state_ = State::kDone;
    sink.on_complete();
    return true;
  }
  std::string te;
  bool has_te = false, has_cl = false;
  uint64_t length = 0;
  for (const auto& [k, v] : head_.headers) {
    if (k == "transfer-encoding") {
      if (has_te) te += ',';
      te += v;
      has_te = true;
    } else if (k == "content-length") {
      // A list of identical values is one value (RFC 9110 §8.6); anything else is an error.
      std::string_view rest = v;
      while (true) {
        size_t comma = rest.find(',');
        std::string_view item = trim(rest.substr(0, comma));
        uint64_t n = 0;
        auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size() ||
            (has_cl && n != length))
          return fail("invalid Content-Length"), false;
        length = n;
        has_cl = true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }
  if (has_te) {
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; chunked must come last,
    // else the body runs until the connection closes.
    if (has_token(last_token(te), "chunked")) {
      state_ = State::kChunkSize;
    } else {
      keep_alive_ = false;
      state_ = State::kUntilClose;
    }
    return true;
  }
  if (has_cl) {
    left_ = length;
    if (left_ == 0) {
      state_ = State::kDone;
      sink.on_complete();
    } else {
      state_ = State::kBody;
    }
    return true;
  }
  keep_alive_ = false;
  state_ = State::kUntilClose;
  return true;
}

size_t HttpResponseParser::feed(std::string_view data, ResponseSink& sink) {
  size_t i = 0;
  while (i < data.size()) {
    switch (state_) {
      case State::kDone:
      case State::kError:
        return i;
      case State::kHead: {
        std::string_view head;
        if (buf_.empty()) {
          // The usual case: the whole head came in this read; parsed where it is.
          std::string_view rest = data.substr(i, std::min(data.size() - i, kMaxHead + 4));
          if (size_t end = head_end(rest, 0); end != std::string_view::npos) {
            head = rest.substr(0, end);
            i += end;
          }
        }
        if (head.empty()) {
          size_t old = buf_.size();
          size_t take = std::min(data.size() - i, kMaxHead + 4 - old);
          buf_.append(data.substr(i, take));
          size_t end = head_end(buf_, old >= 2 ? old - 2 : 0);
          if (end == std::string::npos) {
            if (buf_.size() > kMaxHead) return fail("response head too large");
            i += take;
            break;
          }
          i += end - old;
          head = std::string_view(buf_).substr(0, end);
        }
        if (!parse_head(head)) return i;
        buf_.clear();
        if (head_.status >= 100 && head_.status < 200 && head_.status != 101) break;  // interim
        sink.on_head(head_);
        if (!start_body(sink)) return i;
        break;
      }
      case State::kBody:
      case State::kChunkData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(left_, data.size() - i));
        sink.on_body(data.substr(i, n));
        i += n;
        left_ -= n;
        if (left_ == 0) {
          if (state_ == State::kBody) {
            state_ = State::kDone;
            sink.on_complete();
          } else {
            state_ = State::kChunkCrlf;
          }
        }
        break;
      }
      case State::kUntilClose:
        sink.on_body(data.substr(i));
        i = data.size();
        break;
      case State::kChunkCrlf: {
        char c = data[i++];
        if (c == '\r' && buf_.empty()) {
          buf_ = "\r";
        } else if (c == '\n') {
          buf_.clear();
          state_ = State::kChunkSize;
        } else {
          return fail("missing CRLF after chunk data");
        }
        break;
      }
      case State::kChunkSize:
      case State::kTrailers: {
        size_t nl = data.find('\n', i);
        size_t stop = nl == std::string_view::npos ? data.size() : nl;
        buf_.append(data.substr(i, stop - i));
        size_t limit = state_ == State::kChunkSize ? 1024 : kMaxHead;
        if (buf_.size() > limit) return fail("chunk size line or trailers too large");
        if (nl == std::string_view::npos) {
          i = data.size();
          break;
        }
        i = nl + 1;
        std::string_view line = buf_;
        size_t line_start = line.rfind('\n');  // trailers keep earlier lines for the limit
        line = line_start == std::string_view::npos ? line : line.substr(line_start + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (state_ == State::kTrailers) {
          if (line.empty()) {
            buf_.clear();
            state_ = State::kDone;
            sink.on_complete();
          } else {
            buf_.push_back('\n');
          }
          break;
        }
        // chunk-size [ chunk-ext ]: hex digits, then optional whitespace and ;extensions.
        uint64_t size = 0;
        size_t k = 0;
        for (; k < line.size(); ++k) {
          char c = line[k];
          int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
          if (d < 0) break;
          size = size * 16 + static_cast<uint64_t>(d);
          if (size > kMaxChunk) return fail("chunk too large");
        }
        std::string_view rest = trim(line.substr(k));
        if (k == 0 || (!rest.empty() && rest.front() != ';')) return fail("malformed chunk size");
        buf_.clear();
        if (size == 0) {
          state_ = State::kTrailers;
        } else {
          left_ = size;
          state_ = State::kChunkData;
        }
        break;
      }
    }
  }
  return i;
}

bool HttpResponseParser::finish(ResponseSink& sink) {
  if (state_ == State::kDone) return true;
  if (state_ == State::kUntilClose) {
    state_ = State::kDone;
    sink.on_complete();
    return true;
  }
  if (state_ != State::kError)
    fail(state_ == State::kHead && buf_.empty() ? "connection closed before a response"
                                                : "connection closed mid-response");
  return false;
}

// ---- text/event-stream ------------------------------------------------------------------------

bool SseParser::feed(std::string_view data, SseSink& sink) {
  if (failed_) return false;
  size_t i = 0;
  if (pending_cr_ && !data.empty()) {
    pending_cr_ = false;
    if (data[0] == '\n') i = 1;
  }
  while (i < data.size()) {
    size_t p = data.find_first_of("\r\n", i);
    size_t stop = p == std::string_view::npos ? data.size() : p;
    if (line_.size() + data_.size() + (stop - i) > kMaxEvent) {
      failed_ = true;
      return false;
    }
    line_.append(data.substr(i, stop - i));
    if (p == std::string_view::npos) break;
    if (data[p] == '\r') {
      if (p + 1 < data.size()) {
        i = data[p + 1] == '\n' ? p + 2 : p + 1;
      } else {
        pending_cr_ = true;
        i = p + 1;
      }
    } else {
      i = p + 1;
    }
    line(line_, sink);
    line_.clear();
  }
  return true;
}

void SseParser::line(std::string_view l, SseSink& sink) {
  if (!started_) {
    started_ = true;
    if (l.substr(0, 3) == "\xEF\xBB\xBF") l.remove_prefix(3);
  }
  if (l.empty()) {
    if (has_data_) {
      SseEvent e{type_.empty() ? std::string_view("message") : std::string_view(type_), data_,
                 last_id_};
      sink.on_event(e);
    }
    data_.clear();
    type_.clear();
    has_data_ = false;
    return;
  }
  if (l.front() == ':') return;
  size_t colon = l.find(':');
  std::string_view field = l.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    uint64_t ms = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (!value.empty() && ec == std::errc() && end == value.data() + value.size()) {
      retry_ms_ = ms;
      has_retry_ = true;
    }
  }
}

}  // namespace fa::mcp::client
