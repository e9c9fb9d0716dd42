// file_body implementation: the zero-copy path through Exchange::write_file, and the chunked
// read-and-write pump for exchanges that cannot take a file span.
#include "http/file_body.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>

#include "http/connection.h"

namespace fa::http {

namespace {

// Bytes read per step when the file is streamed (HTTP/2, compression): one step in memory.
constexpr uint64_t kPumpChunkBytes = 64 * 1024;

class FilePump : public std::enable_shared_from_this<FilePump> {
 public:
  FilePump(ResponseHandle handle, std::shared_ptr<const FileDescriptor> file,
           std::vector<BodyPart> parts)
      : handle_(std::move(handle)), file_(std::move(file)), parts_(std::move(parts)) {}

  // Sends parts until the output is over its high-water mark (then resumes on drain) or all
  // are sent (then ends the response).
  void run() {
    while (index_ < parts_.size()) {
      BodyPart& part = parts_[index_];
      bool more = true;
      if (!part.from_file) {
        more = handle_.write(part.bytes);
        ++index_;
      } else if (done_ == 0 && handle_.write_file(FileSpan{file_, part.offset, part.length})) {
        ++index_;  // queued whole, without memory: no reason to wait for a drain
      } else {
        if (!handle_.alive()) return;
        uint64_t n = std::min(part.length - done_, kPumpChunkBytes);
        std::string chunk(n, '\0');
        ssize_t r;
        do {
          r = ::pread(file_->get(), chunk.data(), n, static_cast<off_t>(part.offset + done_));
        } while (r < 0 && errno == EINTR);
        if (r <= 0) {  // unreadable, or shrank: the framing cannot be completed
          handle_.abort();
          return;
        }
        chunk.resize(static_cast<size_t>(r));
        done_ += static_cast<uint64_t>(r);
        if (done_ == part.length) {
          ++index_;
          done_ = 0;
        }
        more = handle_.write(chunk);
      }
      if (!more) {
        if (!handle_.alive()) return;
        if (handle_.client_gone()) {
          handle_.abort();
          return;
        }
        if (!handle_.over_high_water()) continue;
        handle_.on_drain([self = shared_from_this()] { self->run(); });
        return;
      }
    }
    handle_.end();
  }

 private:
  ResponseHandle handle_;
  std::shared_ptr<const FileDescriptor> file_;
  std::vector<BodyPart> parts_;
  size_t index_ = 0;
  uint64_t done_ = 0;  // bytes of parts_[index_] already streamed
};

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

bool ResponseHandle::write_file(FileSpan span) const {
  auto c = conn_.lock();
  return c && !c->closed() && proto_->write_file(*c, serial_, std::move(span));
}

bool Response::write_file(FileSpan span) { return proto_.write_file(conn_, serial_, std::move(span)); }

bool send_file_body(const ResponseHandle& handle, const ResponseHead& head,
                    std::shared_ptr<const FileDescriptor> file, std::vector<BodyPart> parts,
                    bool head_only) {
  uint64_t total = 0;
  for (const BodyPart& p : parts) total += p.size();
  std::string extra(head.extra_headers);
  extra.append("Content-Length: ");
  append_number(extra, total);
  extra.append("\r\n");
  if (!handle.start(ResponseHead{head.status, head.content_type, extra})) return false;
  if (head_only || total == 0) return handle.end();
  auto pump = std::make_shared<FilePump>(handle, std::move(file), std::move(parts));
  pump->run();
  return true;
}

void send_file(Response& res, const std::string& path, std::string_view content_type,
               bool head_only) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) ::close(fd);
    res.send(404, "application/json", R"({"detail":"Not Found"})");
    return;
  }
  auto file = std::make_shared<const FileDescriptor>(fd);
  // RFC 9110 §8.8.2: Last-Modified as an IMF-fixdate.
  std::string extra = "Accept-Ranges: bytes\r\nLast-Modified: ";
  char date[64];
  struct tm tm {};
  gmtime_r(&st.st_mtime, &tm);
  extra.append(date, strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm));
  extra.append("\r\n");
  std::vector<BodyPart> parts;
  parts.push_back(BodyPart::span(0, static_cast<uint64_t>(st.st_size)));
  send_file_body(res.detach(), ResponseHead{200, content_type, extra}, std::move(file),
                 std::move(parts), head_only);
}

}  // namespace fa::http
