// ByteBuffer: a growable contiguous byte buffer with a consumed prefix, for socket input.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace fa {

// Layout: [consumed | readable data | writable space]. Data stays contiguous so parsers can
// take views. compact() moves readable data to the front; it invalidates views.
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ~ByteBuffer() { std::free(data_); }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  char* data() { return data_ + begin_; }
  const char* data() const { return data_ + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  std::string_view view() const { return {data_ + begin_, end_ - begin_}; }

  // Writable tail of at least `min` bytes (grows/compacts as needed). Throws std::bad_alloc.
  char* prepare(size_t min) {
    if (cap_ - end_ < min) reserve_tail(min);
    return data_ + end_;
  }
  size_t writable() const { return cap_ - end_; }
  void commit(size_t n) { end_ += n; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Drops everything after `n` readable bytes (used by in-place chunked decoding).
  void truncate(size_t n) { end_ = begin_ + n; }
  void clear() { begin_ = end_ = 0; }
  size_t capacity() const { return cap_; }
  // Frees the storage of an empty buffer (a large body grew it; idle connections keep none).
  void release() {
    if (!empty()) return;
    std::free(data_);
    data_ = nullptr;
    cap_ = begin_ = end_ = 0;
  }

 private:
  void reserve_tail(size_t min) {
    size_t used = end_ - begin_;
    if (begin_ > 0 && cap_ - used >= min && begin_ >= used) {
      std::memmove(data_, data_ + begin_, used);
      begin_ = 0;
      end_ = used;
      return;
    }
    size_t want = used + min;
    size_t ncap = cap_ ? cap_ : 4096;
    while (ncap < want) ncap *= 2;
    char* n = static_cast<char*>(std::malloc(ncap));
    if (!n) throw std::bad_alloc();
    if (used) std::memcpy(n, data_ + begin_, used);
    std::free(data_);
    data_ = n;
    cap_ = ncap;
    begin_ = 0;
    end_ = used;
  }

  char* data_ = nullptr;
  size_t cap_ = 0, begin_ = 0, end_ = 0;
};

}  // namespace fa
