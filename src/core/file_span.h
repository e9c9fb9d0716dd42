// FileSpan: a byte range of an open file, queued as output and sent with sendfile(2) where the
// transport can (plain TCP), read and written where it cannot (TLS without kTLS).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <memory>

namespace fa {

// Owns one file descriptor; closes it when the last span naming it is sent or dropped (a
// connection that closes mid-file drops its queued spans, which closes the file).
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct FileSpan {
  std::shared_ptr<const FileDescriptor> file;
  uint64_t offset = 0;  // bytes from the start of the file
  uint64_t length = 0;  // bytes to send
};

}  // namespace fa
