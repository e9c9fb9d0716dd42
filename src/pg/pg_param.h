// Param: one query parameter as the C++ client sends it (a borrowed view; encoded at once).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fa::pg {

// Parameters go out in text format (format 0) with type OID 0, so the server infers each type
// from the statement (§55.2.3: "unspecified" parameters) and parses the text with that type's
// input function: an int binds to int2/int4/int8/numeric/float columns alike. Bytes go out in
// binary format (raw bytea). Text and bytes are views: they must live until query() returns
// (the value is encoded into the connection's buffer, or copied by the pool, before it returns).
class Param {
 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kUInt, kDouble, kText, kBytes };

  Param(std::nullptr_t) noexcept : kind_(Kind::kNull) {}   // NOLINT: implicit by design
  Param(bool v) noexcept : kind_(Kind::kBool) { i_ = v; }  // NOLINT
  template <std::signed_integral T>
  Param(T v) noexcept : kind_(Kind::kInt) {
    i_ = v;
  }  // NOLINT
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) Param(T v)
  noexcept : kind_(Kind::kUInt) { u_ = v; }                                                // NOLINT
  Param(double v) noexcept : kind_(Kind::kDouble) { d_ = v; }                              // NOLINT
  Param(float v) noexcept : kind_(Kind::kDouble) { d_ = v; }                               // NOLINT
  Param(const char* s) noexcept : kind_(s ? Kind::kText : Kind::kNull), s_(s ? s : "") {}  // NOLINT
  Param(std::string_view s) noexcept : kind_(Kind::kText), s_(s) {}                        // NOLINT
  Param(const std::string& s) noexcept : kind_(Kind::kText), s_(s) {}                      // NOLINT
  template <typename T>
  Param(const std::optional<T>& v) noexcept : Param(nullptr) {  // NOLINT
    if (v) *this = Param(*v);
  }
  // A bytea value, sent in binary format.
  static Param bytes(std::span<const std::byte> b) noexcept {
    return bytes(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  }
  static Param bytes(std::string_view b) noexcept {
    Param p(b);
    p.kind_ = Kind::kBytes;
    return p;
  }

  Kind kind() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == Kind::kNull; }
  // The Bind format code: 1 (binary) for bytes, 0 (text) otherwise.
  int16_t format() const noexcept { return kind_ == Kind::kBytes ? 1 : 0; }
  // Appends the value's wire form (no length word) to out; nothing for NULL.
  void encode(std::string& out) const;

 private:
  Kind kind_;
  union {
    int64_t i_;
    uint64_t u_;
    double d_;
  };
  std::string_view s_;
};

}  // namespace fa::pg
