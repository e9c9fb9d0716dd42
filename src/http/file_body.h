// file_body: a file, or byte ranges of it with separators between them (multipart/byteranges),
// as a response body. HTTP/1.1 queues the file spans for sendfile(2); other exchanges (HTTP/2,
// a compressed body) get the file read in 64 KiB chunks as the peer drains them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_span.h"
#include "http/request.h"
#include "http/response.h"

namespace fa::http {

// One piece of a file body: literal bytes (a multipart boundary and part headers) or a span of
// the file (offset, length).
struct BodyPart {
  bool from_file = true;
  std::string bytes;
  uint64_t offset = 0;
  uint64_t length = 0;

  static BodyPart text(std::string b) { return BodyPart{false, std::move(b), 0, 0}; }
  static BodyPart span(uint64_t offset, uint64_t length) { return BodyPart{true, {}, offset, length}; }
  uint64_t size() const { return from_file ? length : bytes.size(); }
};

// Starts the response with `head` plus a Content-Length of all parts, sends the parts and ends
// it; `head_only` (a HEAD request) sends the head alone with the same Content-Length (RFC 9110
// §9.3.2). The file closes when the last part is sent or the client leaves. False when the
// exchange is already over (nothing sent).
bool send_file_body(const ResponseHandle& handle, const ResponseHead& head,
                    std::shared_ptr<const FileDescriptor> file, std::vector<BodyPart> parts,
                    bool head_only = false);

// For C++ handlers: the regular file at `path` as a 200 with Content-Length, Last-Modified and
// Accept-Ranges (the request's Range and conditionals are not evaluated here). 404 when the
// path is missing, not a regular file or not readable. `head_only` for HEAD requests.
void send_file(Response& res, const std::string& path,
               std::string_view content_type = "application/octet-stream", bool head_only = false);
// The same, headers only when `req` is a HEAD (RFC 9110 §9.3.2).
inline void send_file(const Request& req, Response& res, const std::string& path,
                      std::string_view content_type = "application/octet-stream") {
  send_file(res, path, content_type, req.head.method_id == Method::kHead);
}

}  // namespace fa::http
