// http_response.h — finds where one HTTP/1.1 response ends in a buffer (no I/O).
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>

namespace onemrc {

struct ResponseSpan {
  long length = 0;  // bytes of the whole response; 0 = need more bytes; -1 = malformed
  int status = 0;
  std::size_t body_offset = 0;
  bool chunked = false;
};

inline bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

// Chunked body (RFC 9112 §7.1) starting at pos: returns the offset just past it, 0 if
// incomplete, -1 if malformed. Trailers are not expected from the servers under test.
inline long chunked_end(std::string_view buf, std::size_t pos) {
  for (;;) {
    std::size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos) return 0;
    char* end = nullptr;
    std::string size_text(buf.substr(pos, eol - pos));
    unsigned long size = std::strtoul(size_text.c_str(), &end, 16);
    if (end == size_text.c_str()) return -1;
    pos = eol + 2;
    if (size == 0) return buf.size() >= pos + 2 ? static_cast<long>(pos + 2) : 0;
    pos += size + 2;  // data, then CRLF
    if (pos > buf.size()) return 0;
  }
}

// Returns the span of the response at the front of buf: length 0 if incomplete, -1 if
// malformed or delimited by close (which a keep-alive benchmark does not accept).
inline ResponseSpan parse_response(std::string_view buf) {
  ResponseSpan r;
  std::size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return r;
  if (buf.size() < 12 || buf.substr(0, 5) != "HTTP/") {
    r.length = -1;
    return r;
  }
  r.status = std::atoi(std::string(buf.substr(9, 3)).c_str());
  r.body_offset = head_end + 4;
  long content_length = -1;
  std::size_t pos = buf.find("\r\n") + 2;
  while (pos < head_end) {
    std::size_t eol = buf.find("\r\n", pos);
    std::string_view line = buf.substr(pos, eol - pos);
    if (iequals_prefix(line, "content-length:")) {
      content_length = std::atol(std::string(line.substr(15)).c_str());
    } else if (iequals_prefix(line, "transfer-encoding:") &&
               line.find("chunked") != std::string_view::npos) {
      r.chunked = true;
    }
    pos = eol + 2;
  }
  if (r.chunked) {
    r.length = chunked_end(buf, r.body_offset);
  } else if (content_length >= 0) {
    std::size_t total = r.body_offset + static_cast<std::size_t>(content_length);
    r.length = buf.size() >= total ? static_cast<long>(total) : 0;
  } else if (r.status == 204 || r.status == 304 || r.status / 100 == 1) {
    r.length = static_cast<long>(r.body_offset);
  } else {
    r.length = -1;
  }
  return r;
}

// Returns the body of a complete response, with chunked framing removed.
inline std::string response_body(std::string_view buf, const ResponseSpan& r) {
  if (!r.chunked) return std::string(buf.substr(r.body_offset, r.length - r.body_offset));
  std::string body;
  std::size_t pos = r.body_offset;
  for (;;) {
    std::size_t eol = buf.find("\r\n", pos);
    unsigned long size = std::strtoul(std::string(buf.substr(pos, eol - pos)).c_str(), nullptr, 16);
    if (size == 0) return body;
    body.append(buf.substr(eol + 2, size));
    pos = eol + 2 + size + 2;
  }
}

}  // namespace onemrc
