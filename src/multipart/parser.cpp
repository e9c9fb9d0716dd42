// multipart/form-data parser (see parser.h). The delimiter is CRLF "--" boundary (RFC 2046
// §5.1.1); since the boundary holds no CR, a delimiter can only start at a '\r', so content is
// scanned with memchr and no bytes are ever buffered: a delimiter prefix left at the end of a
// chunk is remembered as a length (held_), its bytes being delim_'s own.
#include "multipart/parser.h"

#include <algorithm>
#include <cstring>

#include "multipart/header_params.h"

namespace fa::multipart {
namespace {

constexpr size_t npos = std::string_view::npos;

bool is_tchar(unsigned char c) {  // RFC 9110 §5.6.2 token characters
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Old browsers (IE) send the full Windows path; RFC 7578 §4.2 says not to use directory
// information, so keep what follows the last backslash of a `C:\...` or `\\host\...` name.
std::string strip_windows_path(const std::string& name) {
  const bool drive = name.size() >= 3 && name[1] == ':' && name[2] == '\\';
  const bool unc = name.size() >= 2 && name[0] == '\\' && name[1] == '\\';
  if (!drive && !unc) return name;
  return name.substr(name.rfind('\\') + 1);
}

}  // namespace

Parser::Parser(std::string_view boundary, Limits limits) : delim_("\r\n--"), limits_(limits) {
  delim_.append(boundary);
  if (boundary.empty() || boundary.size() > 70 || boundary.find_first_of("\r\n") != npos) {
    fail(400, "invalid multipart boundary");
  }
}

Status Parser::fail(int status, std::string_view reason) {
  state_ = State::kError;
  error_ = {status, reason};
  return Status::kError;
}

bool Parser::emit(std::string_view bytes, PartSink& sink) {
  if (state_ != State::kBody || bytes.empty()) return true;  // the preamble is discarded
  part_bytes_ += bytes.size();
  if (part_.is_file()) {
    if (part_bytes_ > limits_.max_file_bytes) {
      fail(413, "multipart file exceeds the maximum file size");
      return false;
    }
  } else if (part_bytes_ > limits_.max_field_bytes) {
    fail(413, "multipart field exceeds the maximum field size");
    return false;
  }
  sink.on_part_data(bytes);
  return true;
}

size_t Parser::scan_content(std::string_view chunk, size_t pos, PartSink& sink) {
  const char* d = delim_.data();
  const size_t dn = delim_.size();
  if (held_ > 0) {  // a delimiter prefix ended the previous chunk: does this one complete it?
    const size_t n = std::min(dn - held_, chunk.size() - pos);
    if (std::memcmp(chunk.data() + pos, d + held_, n) == 0) {
      if (held_ + n == dn) {
        held_ = 0;
        return pos + n;
      }
      held_ += n;
      return npos;
    }
    // Not a delimiter: the held bytes were content. The next possible start is a '\r' at or
    // after `pos` (delim_ has no '\r' past its first byte).
    const size_t was = held_;
    held_ = 0;
    if (!emit(std::string_view(d, was), sink)) return npos;
  }
  const size_t start = pos;
  size_t i = pos;
  for (;;) {
    const void* cr = std::memchr(chunk.data() + i, '\r', chunk.size() - i);
    if (cr == nullptr) {
      emit(chunk.substr(start), sink);
      return npos;
    }
    i = static_cast<size_t>(static_cast<const char*>(cr) - chunk.data());
    const size_t n = std::min(dn, chunk.size() - i);
    if (std::memcmp(chunk.data() + i, d, n) == 0) {
      if (!emit(chunk.substr(start, i - start), sink)) return npos;
      if (n == dn) return i + dn;
      held_ = n;
      return npos;
    }
    ++i;
  }
}

// The header block (without its final empty line) into part_; RFC 7578 §4.2 requires a
// Content-Disposition of type form-data with a name.
bool Parser::parse_headers(PartSink& sink) {
  part_ = Part{};
  std::string_view block(header_block_);
  bool disposition = false;
  while (!block.empty()) {
    const size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == npos ? block.size() : eol + 2);
    const size_t colon = line.find(':');
    if (colon == 0 || colon == npos) {
      fail(400, "malformed multipart part header line");
      return false;
    }
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!is_tchar(static_cast<unsigned char>(c))) {
        fail(400, "invalid character in a multipart part header name");
        return false;
      }
    }
    const std::string_view value = trim(line.substr(colon + 1));
    if (value.find_first_of("\r\n") != npos) {
      fail(400, "bare CR or LF in a multipart part header");
      return false;
    }
    part_.headers.emplace_back(std::string(name), std::string(value));
    if (iequals(name, "content-disposition")) {
      HeaderValue hv = parse_header_value(value);
      if (!iequals(hv.main, "form-data")) continue;
      if (const std::string* n = hv.param("name")) {
        part_.name = *n;
        disposition = true;
      }
      if (const std::string* f = hv.param("filename")) part_.filename = strip_windows_path(*f);
    } else if (iequals(name, "content-type")) {
      part_.content_type = std::string(value);
    }
  }
  if (!disposition) {
    fail(400, "multipart part without Content-Disposition: form-data; name=...");
    return false;
  }
  size_t& count = part_.is_file() ? files_ : fields_;
  if (count >= (part_.is_file() ? limits_.max_files : limits_.max_fields)) {
    fail(400, part_.is_file() ? "too many files in the multipart body"
                              : "too many fields in the multipart body");
    return false;
  }
  ++count;
  part_bytes_ = 0;
  sink.on_part_begin(part_);
  return true;
}

Status Parser::feed(std::string_view chunk, PartSink& sink) {
  size_t pos = 0;
  while (pos < chunk.size() || state_ == State::kError || state_ == State::kEpilogue) {
    switch (state_) {
      case State::kError:
        return Status::kError;
      case State::kEpilogue:
        return Status::kDone;
      case State::kPreamble:
      case State::kBody: {
        const size_t next = scan_content(chunk, pos, sink);
        if (state_ == State::kError) return Status::kError;
        if (next == npos) return Status::kNeedMore;
        if (state_ == State::kBody) sink.on_part_end();
        state_ = State::kAfterDelim;
        pos = next;
        break;
      }
      case State::kAfterDelim: {
        const char c = chunk[pos++];
        if (c == '-') {
          state_ = State::kAfterDash;
        } else if (c == '\r') {
          state_ = State::kPaddingCr;
        } else if (c == ' ' || c == '\t') {
          state_ = State::kPadding;
        } else {
          return fail(400, "multipart boundary not followed by CRLF");
        }
        break;
      }
      case State::kAfterDash:
        if (chunk[pos++] != '-') return fail(400, "multipart boundary not followed by CRLF");
        state_ = State::kEpilogue;
        break;
      case State::kPadding: {
        const char c = chunk[pos++];
        if (c == '\r') {
          state_ = State::kPaddingCr;
        } else if (c != ' ' && c != '\t') {
          return fail(400, "multipart boundary not followed by CRLF");
        }
        break;
      }
      case State::kPaddingCr:
        if (chunk[pos++] != '\n') return fail(400, "multipart boundary not followed by CRLF");
        header_block_.clear();
        state_ = State::kHeaders;
        break;
      case State::kHeaders: {
        // Collect up to the empty line; an immediate CRLF means a part without headers.
        const size_t old = header_block_.size();
        const size_t room = limits_.max_header_bytes - std::min(old, limits_.max_header_bytes);
        const size_t take = std::min(room, chunk.size() - pos);
        header_block_.append(chunk.data() + pos, take);
        size_t end = npos;
        if (header_block_.size() >= 2 && header_block_.compare(0, 2, "\r\n") == 0) {
          end = 2;
        } else {
          const size_t hit = header_block_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
          if (hit != npos) end = hit + 4;
        }
        if (end == npos) {
          if (header_block_.size() >= limits_.max_header_bytes) {
            return fail(413, "multipart part headers exceed the maximum size");
          }
          return Status::kNeedMore;
        }
        pos += end - old;
        header_block_.resize(end - 2);  // keep each header line's CRLF but not the empty line
        if (!parse_headers(sink)) return Status::kError;
        state_ = State::kBody;
        break;
      }
    }
  }
  return Status::kNeedMore;
}

Status Parser::finish() {
  switch (state_) {
    case State::kEpilogue:
      return Status::kDone;
    case State::kError:
      return Status::kError;
    case State::kPreamble:
      return fail(400, "multipart body has no boundary line");
    default:
      return fail(400, "multipart body ended before the closing boundary");
  }
}

}  // namespace fa::multipart
