// WriteQueue implementation.
#include "core/write_queue.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace fa {

namespace {
constexpr int kMaxIov = 64;  // segments per writev call
// Bytes asked of one sendfile(2) call: Linux sends at most 0x7ffff000 per call anyway.
constexpr size_t kMaxSendfileBytes = size_t{1} << 30;
// Bytes read per step when the transport cannot sendfile (TLS): one step is in memory at a time.
constexpr size_t kFileReadChunk = 64 * 1024;
// sendfile(2) has no MSG_NOSIGNAL: writing to a socket the peer reset raises SIGPIPE, whose
// default action kills the process (a client leaving mid-file would end the server). Once a
// file is queued, SIGPIPE is ignored unless the program installed its own handler (Python
// already ignores it); the write then fails with EPIPE and the connection closes.
void ignore_sigpipe_once() {
  static const bool done = [] {
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
      struct sigaction ign {};
      ign.sa_handler = SIG_IGN;
      ::sigaction(SIGPIPE, &ign, nullptr);
    }
    return true;
  }();
  (void)done;
}
}  // namespace

std::string& WriteQueue::tail() {
  if (segs_.empty() || segs_.back().is_file() || segs_.back().bytes.size() >= kOwnSegmentBytes * 4)
    segs_.emplace_back();
  return segs_.back().bytes;
}

void WriteQueue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  tail().append(bytes);
  bytes_ += bytes.size();
}

void WriteQueue::append(std::string&& bytes) {
  if (bytes.empty()) return;
  bytes_ += bytes.size();
  if (bytes.size() < kOwnSegmentBytes) {
    tail().append(bytes);
  } else {
    segs_.push_back(Segment{std::move(bytes), {}});
    segs_.emplace_back();  // later small appends must come after this segment
  }
}

void WriteQueue::append_file(FileSpan span) {
  if (span.length == 0 || !span.file) return;
  ignore_sigpipe_once();
  bytes_ += span.length;
  segs_.push_back(Segment{{}, std::move(span)});
}

void WriteQueue::clear() {
  segs_.clear();  // drops file spans: their files close
  offset_ = 0;
  bytes_ = 0;
}

void WriteQueue::drop_front(size_t n) {
  // Only byte segments before the first file segment were written (see flush).
  bytes_ -= n;
  if (bytes_ == 0) {
    reuse_drained();
    return;
  }
  while (n > 0 && !segs_.empty()) {
    size_t avail = segs_.front().bytes.size() - offset_;
    if (n < avail) {
      offset_ += n;
      return;
    }
    n -= avail;
    offset_ = 0;
    segs_.pop_front();
  }
  while (!segs_.empty() && !segs_.front().is_file() && segs_.front().bytes.size() == offset_ &&
         segs_.size() > 1) {
    segs_.pop_front();
    offset_ = 0;
  }
}

void WriteQueue::reuse_drained() {
  // Everything was written: the front segment's buffer (a byte segment: file segments leave
  // when their last byte is sent) stays for the next response, so a steady stream of small
  // responses appends into the same memory without allocating. A buffer grown past
  // kKeptCapacity by a large response is released instead: an idle connection keeps little.
  if (segs_.size() > 1) segs_.resize(1);
  if (!segs_.empty()) {
    std::string& b = segs_.front().bytes;
    if (b.capacity() > kKeptCapacity)
      std::string().swap(b);
    else
      b.clear();
  }
  offset_ = 0;
}

bool WriteQueue::take_front(std::string& spare) {
  if (bytes_ == 0 || offset_ != 0) return false;
  Segment& front = segs_.front();
  if (front.is_file() || front.bytes.empty()) return false;
  bool alone = segs_.size() == 1;
  // Small bytes with more after them go out together in one copy (one send, not two).
  if (!alone && front.bytes.size() < kOwnSegmentBytes) return false;
  bytes_ -= front.bytes.size();
  spare.clear();
  front.bytes.swap(spare);
  if (alone) {
    if (front.bytes.capacity() > kKeptCapacity) std::string().swap(front.bytes);
    return true;
  }
  segs_.pop_front();
  if (!segs_.front().is_file() && segs_.front().bytes.empty() && segs_.size() > 1)
    segs_.pop_front();  // the empty tail a large segment left behind it
  return true;
}

bool WriteQueue::flush_file(Transport& transport, long& total, bool& blocked) {
  FileSpan& f = segs_.front().file;
  off_t off = static_cast<off_t>(f.offset);
  ssize_t w =
      transport.sendfile(f.file->get(), &off, std::min<uint64_t>(f.length, kMaxSendfileBytes));
  if (w < 0) {
    if (errno == EINTR) return true;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      blocked = true;
      return true;
    }
    if (errno != ENOTSUP && errno != EINVAL && errno != ENOSYS) return false;
    // The transport cannot (TLS) or the file cannot (sendfile refuses it): read one chunk in
    // front of the span and let writev send it.
    std::string chunk(std::min<uint64_t>(f.length, kFileReadChunk), '\0');
    ssize_t r = ::pread(f.file->get(), chunk.data(), chunk.size(), static_cast<off_t>(f.offset));
    if (r < 0 && errno == EINTR) return true;
    if (r <= 0) {
      if (r == 0) errno = EIO;  // the file shrank: the body's framing cannot be completed
      return false;
    }
    chunk.resize(static_cast<size_t>(r));
    f.offset += static_cast<uint64_t>(r);
    f.length -= static_cast<uint64_t>(r);
    if (f.length == 0) segs_.pop_front();
    segs_.push_front(Segment{std::move(chunk), {}});
    offset_ = 0;
    return true;
  }
  if (w == 0) {
    errno = EIO;  // the file shrank under us: close rather than send a short body
    return false;
  }
  f.offset += static_cast<uint64_t>(w);
  f.length -= static_cast<uint64_t>(w);
  bytes_ -= static_cast<size_t>(w);
  total += w;
  if (f.length == 0) {
    segs_.pop_front();
    if (segs_.empty()) segs_.emplace_back();
  }
  return true;
}

long WriteQueue::flush(Transport& transport) {
  long total = 0;
  while (bytes_ > 0) {
    while (!segs_.front().is_file() && segs_.front().bytes.size() == offset_) {
      segs_.pop_front();  // an emptied byte segment before a file segment
      offset_ = 0;
    }
    if (segs_.front().is_file()) {
      bool blocked = false;
      if (!flush_file(transport, total, blocked)) return -1;
      if (blocked) return total;
      continue;
    }
    iovec iov[kMaxIov];
    int n = 0;
    size_t off = offset_;
    auto it = segs_.begin();
    for (; it != segs_.end() && n < kMaxIov && !it->is_file(); ++it) {
      if (it->bytes.size() > off) {
        iov[n].iov_base = it->bytes.data() + off;
        iov[n].iov_len = it->bytes.size() - off;
        ++n;
      }
      off = 0;
    }
    bool file_next = it != segs_.end() && it->is_file();
    ssize_t w = file_next ? transport.writev_more(iov, n) : transport.writev(iov, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return total;
      return -1;
    }
    total += w;
    drop_front(static_cast<size_t>(w));
  }
  return total;
}

}  // namespace fa
