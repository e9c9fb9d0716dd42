#include "response_parser.h"

#include <algorithm>
#include <cstring>

namespace fa::loadgen {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != b[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {  // OWS = *( SP / HTAB ), RFC 9110 §5.6.3
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(token) for each element of a comma-separated list (RFC 9110 §5.6.1), trimmed.
template <typename Fn>
void for_each_token(std::string_view list, Fn fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view tok = trim(list.substr(0, comma));
    if (!tok.empty()) fn(tok);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// A line up to LF (RFC 9112 §2.2 lets a recipient accept a bare LF), without its CR.
std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

void ResponseParser::reset(bool head_request) {
  head_request_ = head_request;
  state_ = State::kHead;
  head_.clear();
  status_ = 0;
  keep_alive_ = true;
  chunked_ = false;
  content_length_ = -1;
  left_ = 0;
  crlf_seen_ = 0;
  body_bytes_ = 0;
  error_ = "";
}

ResponseParser::Result ResponseParser::fail(const char* why) {
  state_ = State::kError;
  error_ = why;
  return Result::kError;
}

bool ResponseParser::parse_head(std::string_view h) {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
  if (h.size() < 12 || h.substr(0, 7) != "HTTP/1." || h[7] < '0' || h[7] > '9' || h[8] != ' ') {
    error_ = "bad status line";
    return false;
  }
  for (int i = 9; i < 12; ++i) {
    if (h[i] < '0' || h[i] > '9') {
      error_ = "bad status code";
      return false;
    }
  }
  status_ = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
  if (status_ < 100) {  // the first digit is the class, 1 to 5 (RFC 9110 §15); 0 is none
    error_ = "bad status code";
    return false;
  }
  bool http10 = h[7] == '0';
  keep_alive_ = !http10;
  chunked_ = false;
  content_length_ = -1;
  bool other_coding = false;
  size_t pos = h.find('\n');
  while (pos != std::string_view::npos && pos + 1 < h.size()) {
    size_t eol = h.find('\n', pos + 1);
    std::string_view line = strip_cr(h.substr(pos + 1, eol == std::string_view::npos
                                                           ? std::string_view::npos
                                                           : eol - pos - 1));
    pos = eol;
    if (line.empty()) break;  // the blank line ending the head
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line[colon - 1] == ' ' ||
        line[0] == ' ' || line[0] == '\t') {  // RFC 9112 §5.1: no space before the colon
      error_ = "bad header line";
      return false;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      // RFC 9110 §8.6: 1*DIGIT; differing repeated values are an error.
      if (value.empty() || value.size() > 18 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        error_ = "bad Content-Length";
        return false;
      }
      int64_t n = 0;
      for (char c : value) n = n * 10 + (c - '0');
      if (content_length_ >= 0 && content_length_ != n) {
        error_ = "conflicting Content-Length";
        return false;
      }
      content_length_ = n;
    } else if (iequals(name, "transfer-encoding")) {
      // The body is chunked when chunked is the last coding (RFC 9112 §6.3 item 4); another
      // final coding on a response means the body runs until the close (§6.3 item 4 too).
      std::string_view last;
      for_each_token(value, [&](std::string_view t) { last = t; });
      chunked_ = iequals(last, "chunked");
      other_coding = !chunked_;
    } else if (iequals(name, "connection")) {
      for_each_token(value, [&](std::string_view t) {
        if (iequals(t, "close")) keep_alive_ = false;
        else if (http10 && iequals(t, "keep-alive")) keep_alive_ = true;
      });
    }
  }
  if (other_coding) {
    chunked_ = false;
    content_length_ = -1;
  }
  return true;
}

ResponseParser::Result ResponseParser::start_body() {
  // No body: HEAD, 1xx, 204, 304 (RFC 9112 §6.3 item 1).
  if (head_request_ || status_ == 204 || status_ == 304 || status_ / 100 == 1) {
    state_ = State::kDone;
    return Result::kDone;
  }
  head_.clear();
  if (chunked_) {
    state_ = State::kChunkSize;
    return Result::kNeedMore;
  }
  if (content_length_ >= 0) {
    left_ = static_cast<uint64_t>(content_length_);
    if (left_ == 0) {
      state_ = State::kDone;
      return Result::kDone;
    }
    state_ = State::kBody;
    return Result::kNeedMore;
  }
  keep_alive_ = false;  // delimited by the close (§6.3 item 8)
  state_ = State::kUntilClose;
  return Result::kNeedMore;
}

ResponseParser::Result ResponseParser::feed(std::string_view data, size_t* used) {
  size_t off = 0;
  auto done = [&](Result r) {
    *used = off;
    return r;
  };
  while (off < data.size() || state_ == State::kDone || state_ == State::kError) {
    std::string_view in = data.substr(off);
    switch (state_) {
      case State::kHead: {
        if (head_.empty()) {  // the common case: the whole head is in this read, parse in place
          size_t end = in.find("\r\n\r\n");
          if (end != std::string_view::npos && end + 4 <= kMaxHead) {
            off += end + 4;
            if (!parse_head(in.substr(0, end + 4))) {
              state_ = State::kError;
              return done(Result::kError);
            }
            if (status_ / 100 == 1 && status_ != 101) continue;  // interim (RFC 9110 §15.2)
            if (start_body() == Result::kDone) return done(Result::kDone);
            break;
          }
        }
        size_t old = head_.size();
        size_t from = old >= 3 ? old - 3 : 0;
        head_.append(in.data(), std::min(in.size(), kMaxHead + 4 - old));
        size_t end = head_.find("\r\n\r\n", from);
        if (end == std::string::npos) {
          if (head_.size() > kMaxHead) return done(fail("response head too large"));
          off = data.size();
          return done(Result::kNeedMore);
        }
        if (end + 4 > kMaxHead) return done(fail("response head too large"));
        head_.resize(end + 4);
        off += end + 4 - old;
        if (!parse_head(head_)) {
          state_ = State::kError;
          return done(Result::kError);
        }
        if (status_ / 100 == 1 && status_ != 101) {  // interim: the final response follows
          head_.clear();
          continue;
        }
        if (start_body() == Result::kDone) return done(Result::kDone);
        break;
      }
      case State::kBody: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(left_, in.size()));
        left_ -= n;
        body_bytes_ += n;
        off += n;
        if (left_ == 0) {
          state_ = State::kDone;
          return done(Result::kDone);
        }
        break;
      }
      case State::kChunkSize: {
        size_t lf = in.find('\n');
        size_t take = lf == std::string_view::npos ? in.size() : lf + 1;
        head_.append(in.data(), std::min(take, kMaxLine + 1));
        off += take;
        if (head_.size() > kMaxLine) return done(fail("chunk-size line too long"));
        if (lf == std::string_view::npos) break;
        // chunk = chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); extensions are ignored.
        std::string_view line = strip_cr(std::string_view(head_).substr(0, head_.size() - 1));
        uint64_t size = 0;
        size_t digits = 0;
        for (char c : line) {
          int v = (c >= '0' && c <= '9')   ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                           : -1;
          if (v < 0) break;
          if (++digits > 15) return done(fail("chunk size too large"));
          size = size * 16 + static_cast<uint64_t>(v);
        }
        std::string_view rest = trim(line.substr(digits));
        if (digits == 0 || (!rest.empty() && rest.front() != ';')) {
          return done(fail("bad chunk size"));
        }
        head_.clear();
        if (size == 0) {
          state_ = State::kTrailers;
        } else {
          left_ = size;
          state_ = State::kChunkData;
        }
        break;
      }
      case State::kChunkData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(left_, in.size()));
        left_ -= n;
        body_bytes_ += n;
        off += n;
        if (left_ == 0) {
          state_ = State::kChunkCrlf;
          crlf_seen_ = 0;
        }
        break;
      }
      case State::kChunkCrlf: {
        char want = crlf_seen_ == 0 ? '\r' : '\n';
        if (in[0] != want) return done(fail("chunk data not followed by CRLF"));
        ++off;
        if (++crlf_seen_ == 2) state_ = State::kChunkSize;
        break;
      }
      case State::kTrailers: {
        // trailer-section = *( field-line CRLF ) then CRLF (RFC 9112 §7.1.2): read line by line.
        size_t lf = in.find('\n');
        size_t take = lf == std::string_view::npos ? in.size() : lf + 1;
        head_.append(in.data(), std::min(take, kMaxHead + 1));
        off += take;
        if (head_.size() > kMaxHead) return done(fail("trailer section too large"));
        if (lf == std::string_view::npos) break;
        bool blank = strip_cr(std::string_view(head_).substr(0, head_.size() - 1)).empty();
        head_.clear();
        if (blank) {
          state_ = State::kDone;
          return done(Result::kDone);
        }
        break;
      }
      case State::kUntilClose:
        body_bytes_ += in.size();
        off = data.size();
        break;
      case State::kDone:
        return done(Result::kDone);
      case State::kError:
        return done(Result::kError);
    }
  }
  return done(Result::kNeedMore);
}

bool ResponseParser::finish() {
  if (state_ == State::kUntilClose) {
    state_ = State::kDone;
    return true;
  }
  return state_ == State::kDone;
}

}  // namespace fa::loadgen
