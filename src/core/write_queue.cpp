// WriteQueue implementation.
#include "core/write_queue.h"

#include <cerrno>
#include <climits>

namespace fa {

namespace {
constexpr int kMaxIov = 64;  // segments per writev call
}

std::string& WriteQueue::tail() {
  if (segs_.empty() || segs_.back().size() >= kOwnSegmentBytes * 4) segs_.emplace_back();
  return segs_.back();
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
    segs_.push_back(std::move(bytes));
    segs_.emplace_back();  // later small appends must come after this segment
  }
}

void WriteQueue::clear() {
  segs_.clear();
  offset_ = 0;
  bytes_ = 0;
}

void WriteQueue::drop_front(size_t n) {
  bytes_ -= n;
  while (n > 0 && !segs_.empty()) {
    size_t avail = segs_.front().size() - offset_;
    if (n < avail) {
      offset_ += n;
      return;
    }
    n -= avail;
    offset_ = 0;
    segs_.pop_front();
  }
  while (!segs_.empty() && segs_.front().size() == offset_ && segs_.size() > 1) {
    segs_.pop_front();
    offset_ = 0;
  }
  if (bytes_ == 0) {
    // Keep one emptied segment's capacity around for the next response.
    if (segs_.size() > 1) segs_.resize(1);
    if (!segs_.empty()) segs_.front().clear();
    offset_ = 0;
  }
}

long WriteQueue::flush(Transport& transport) {
  long total = 0;
  while (bytes_ > 0) {
    iovec iov[kMaxIov];
    int n = 0;
    size_t off = offset_;
    for (auto it = segs_.begin(); it != segs_.end() && n < kMaxIov; ++it) {
      if (it->size() > off) {
        iov[n].iov_base = it->data() + off;
        iov[n].iov_len = it->size() - off;
        ++n;
      }
      off = 0;
    }
    ssize_t w = transport.writev(iov, n);
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
