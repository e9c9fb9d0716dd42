// WriteQueue: pending output for one socket; small writes coalesce, large bodies are queued
// as their own segments; flushed with writev, partial writes resume where they stopped.
// File spans (FileSpan) queue between the byte segments and go out with sendfile(2).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "core/file_span.h"
#include "core/transport.h"

namespace fa {

class WriteQueue {
 public:
  // Bodies at least this large are moved in as their own segment instead of copied (bytes).
  static constexpr size_t kOwnSegmentBytes = 16 * 1024;
  // Once everything is written, a buffer of at most this capacity is kept for the next
  // response (no allocation per response); a larger one is freed (bytes).
  static constexpr size_t kKeptCapacity = 16 * 1024;

  // Copies bytes to the tail segment.
  void append(std::string_view bytes);
  // Takes ownership of a large buffer without copying it.
  void append(std::string&& bytes);
  // Queues a span of an open file (sent with Transport::sendfile, or read and written when the
  // transport cannot); its bytes count in size() like any others.
  void append_file(FileSpan span);
  size_t size() const { return bytes_; }
  bool empty() const { return bytes_ == 0; }

  // Writes as much as the transport takes. Returns bytes written, or -1 with errno set on a
  // hard error (EAGAIN is not an error: returns what was written so far).
  long flush(Transport& transport);
  void clear();

  // Moves the bytes of the front segment into `spare` without copying them, when the front is
  // a byte segment none of which was written and it is the only segment or a large one;
  // `spare` (cleared first) takes its place, so two buffers trade places send after send and
  // neither is reallocated. False otherwise (empty queue, a file segment in front, a partly
  // written front, small bytes with more after them): flush() then.
  bool take_front(std::string& spare);

 private:
  struct Segment {
    std::string bytes;
    FileSpan file;  // a file segment when file.file is set (then `bytes` is empty)
    bool is_file() const { return file.file != nullptr; }
  };
  std::string& tail();
  void drop_front(size_t n);
  void reuse_drained();
  // Sends from the file segment at the front; false on a hard error (errno set).
  bool flush_file(Transport& transport, long& total, bool& blocked);
  std::deque<Segment> segs_;  // front may be partly written (offset_, byte segments only)
  size_t offset_ = 0;
  size_t bytes_ = 0;
};

}  // namespace fa
