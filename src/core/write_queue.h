// WriteQueue: pending output for one socket; small writes coalesce, large bodies are queued
// as their own segments; flushed with writev, partial writes resume where they stopped.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "core/transport.h"

namespace fa {

class WriteQueue {
 public:
  // Bodies at least this large are moved in as their own segment instead of copied (bytes).
  static constexpr size_t kOwnSegmentBytes = 16 * 1024;

  // Copies bytes to the tail segment.
  void append(std::string_view bytes);
  // Takes ownership of a large buffer without copying it.
  void append(std::string&& bytes);
  size_t size() const { return bytes_; }
  bool empty() const { return bytes_ == 0; }

  // Writes as much as the transport takes. Returns bytes written, or -1 with errno set on a
  // hard error (EAGAIN is not an error: returns what was written so far).
  long flush(Transport& transport);
  void clear();

 private:
  std::string& tail();
  void drop_front(size_t n);
  std::deque<std::string> segs_;  // front may be partly written (offset_)
  size_t offset_ = 0;
  size_t bytes_ = 0;
};

}  // namespace fa
