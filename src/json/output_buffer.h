// OutputBuffer: appends bytes to a caller's std::string through a raw cursor, growing it geometrically.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

// The buffer's few-instruction members must inline into encoder loops even in size-optimised
// builds (nanobind compiles extensions with -Os).
#if defined(__GNUC__)
#define FA_JSON_INLINE inline __attribute__((always_inline))
#define FA_JSON_NOINLINE __attribute__((noinline))
#else
#define FA_JSON_INLINE inline
#define FA_JSON_NOINLINE
#endif

namespace fa::json {

// Writes go through a cursor into the string's own storage; the string's size is trimmed to
// the bytes written by commit() (or the destructor). While a buffer is live, the string holds
// scratch bytes past the cursor, so nobody else may touch it.
class OutputBuffer {
 public:
  // First slack handed out beyond the caller's bytes: 256 bytes covers a small response body
  // without a second grow, and zero-filling it costs a few nanoseconds.
  static constexpr std::size_t kInitialSlackBytes = 256;

  // Starts appending after the current contents of `out`.
  explicit OutputBuffer(std::string& out) : out_(out), start_(out.size()) {
    out_.resize(start_ + kInitialSlackBytes);
    cur_ = out_.data() + start_;
    end_ = out_.data() + out_.size();
  }
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;
  ~OutputBuffer() { commit(); }

  // Guarantees room for n more bytes and returns the cursor to write them at.
  FA_JSON_INLINE char* ensure(std::size_t n) {
    if (static_cast<std::size_t>(end_ - cur_) < n) grow(n);
    return cur_;
  }
  // Moves the cursor past n bytes written at ensure()'s pointer.
  FA_JSON_INLINE void advance(std::size_t n) noexcept { cur_ += n; }
  // Sets the cursor to p, a pointer into the region returned by ensure().
  FA_JSON_INLINE void set_cursor(char* p) noexcept { cur_ = p; }

  FA_JSON_INLINE void put(char c) { *ensure(1) = c; ++cur_; }
  FA_JSON_INLINE void write(const char* p, std::size_t n) {
    std::memcpy(ensure(n), p, n);
    cur_ += n;
  }
  FA_JSON_INLINE void write(std::string_view s) { write(s.data(), s.size()); }

  // Bytes written since construction.
  std::size_t written() const noexcept { return static_cast<std::size_t>(cur_ - out_.data()) - start_; }
  std::string_view view() const noexcept { return {out_.data() + start_, written()}; }

  // Trims the string to the written bytes; the buffer stays usable afterwards.
  void commit() noexcept {
    std::size_t used = static_cast<std::size_t>(cur_ - out_.data());
    out_.resize(used);  // shrinking never allocates
    cur_ = out_.data() + used;
    end_ = cur_;
  }
  // Drops everything written since construction (used on error).
  void rollback() noexcept {
    out_.resize(start_);
    cur_ = out_.data() + start_;
    end_ = cur_;
  }

 private:
  FA_JSON_NOINLINE void grow(std::size_t n) {
    std::size_t used = static_cast<std::size_t>(cur_ - out_.data());
    std::size_t want = std::max({used + n, out_.size() * 2, start_ + kInitialSlackBytes});
    out_.resize(want);  // may throw std::bad_alloc; the string stays valid
    cur_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string& out_;
  std::size_t start_;
  char* cur_;
  char* end_;
};

}  // namespace fa::json
