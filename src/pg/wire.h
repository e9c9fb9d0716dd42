// Big-endian integer helpers for the PostgreSQL v3 wire protocol (all integers are network order).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace fa::pg {

// Reads a big-endian integer of type T from p (caller guarantees sizeof(T) readable bytes).
template <typename T>
inline T read_be(const char* p) {
  using U = std::make_unsigned_t<T>;
  U v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<U>((v << 8) | static_cast<uint8_t>(p[i]));
  return static_cast<T>(v);
}

// Appends v to out in big-endian order.
template <typename T>
inline void append_be(std::string& out, T v) {
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(v);
  char b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) b[sizeof(T) - 1 - i] = static_cast<char>(u >> (8 * i));
  out.append(b, sizeof(T));
}

// Overwrites sizeof(T) bytes at out[pos] with v in big-endian order.
template <typename T>
inline void put_be(std::string& out, size_t pos, T v) {
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(v);
  for (size_t i = 0; i < sizeof(T); ++i) out[pos + sizeof(T) - 1 - i] = static_cast<char>(u >> (8 * i));
}

// A bounds-checked cursor over a message body; ok() turns false on any over-read.
class Reader {
 public:
  explicit Reader(std::string_view body) : p_(body.data()), end_(body.data() + body.size()) {}
  template <typename T>
  T be() {
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) { ok_ = false; p_ = end_; return 0; }
    T v = read_be<T>(p_);
    p_ += sizeof(T);
    return v;
  }
  // Reads a NUL-terminated string (without the NUL).
  std::string_view cstr() {
    const void* z = std::memchr(p_, 0, static_cast<size_t>(end_ - p_));
    if (!z) { ok_ = false; p_ = end_; return {}; }
    std::string_view s(p_, static_cast<const char*>(z) - p_);
    p_ = static_cast<const char*>(z) + 1;
    return s;
  }
  std::string_view bytes(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) { ok_ = false; p_ = end_; return {}; }
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  std::string_view rest() { std::string_view s(p_, end_ - p_); p_ = end_; return s; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool ok() const { return ok_; }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace fa::pg
