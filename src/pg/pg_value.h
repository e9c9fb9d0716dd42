// Value: one column of one row as received (binary format), decoded on demand to C++ types.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "pg/pg_error.h"

namespace fa::pg {

// Type OIDs the C++ decoders know (PostgreSQL's pg_type.dat).
namespace oids {
inline constexpr uint32_t kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20, kInt2 = 21,
                          kInt4 = 23, kText = 25, kOid = 26, kJson = 114, kXml = 142, kFloat4 = 700,
                          kFloat8 = 701, kUnknown = 705, kBpchar = 1042, kVarchar = 1043,
                          kNumeric = 1700, kUuid = 2950, kJsonb = 3802;
}  // namespace oids

// Results are requested in binary format for every column (one format code in Bind), so a
// Value holds the type's *_send bytes. Accessors throw DecodeError naming the type on a
// mismatch or a NULL; to_string() gives the text form of every type it knows.
class Value {
 public:
  Value(uint32_t type_oid, const char* data, int32_t len) noexcept
      : oid_(type_oid), p_(data), len_(len) {}

  bool is_null() const noexcept { return len_ < 0; }
  uint32_t type_oid() const noexcept { return oid_; }
  // The binary bytes as received (empty for NULL).
  std::string_view raw() const noexcept {
    return is_null() ? std::string_view() : std::string_view(p_, static_cast<size_t>(len_));
  }

  bool as_bool() const;
  int64_t as_int() const;    // int2, int4, int8, oid
  double as_double() const;  // float4, float8, and the integer types
  // Text-like types (text, varchar, bpchar, name, "char", json, jsonb, xml, unknown): a view
  // into the result, valid while the Result lives.
  std::string_view as_text() const;
  // The text form PostgreSQL would print for: the above, numeric, uuid and bytea (\x hex).
  std::string to_string() const;

  // as<T>(): bool, any integer type (range-checked), float/double, std::string_view,
  // std::string, or std::optional of those (NULL -> nullopt).
  template <typename T>
  T as() const {
    if constexpr (is_optional<T>::value) {
      if (is_null()) return std::nullopt;
      return as<typename T::value_type>();
    } else if constexpr (std::is_same_v<T, bool>) {
      return as_bool();
    } else if constexpr (std::is_integral_v<T>) {
      int64_t v = as_int();
      if (!in_range<T>(v)) throw_range();
      return static_cast<T>(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(as_double());
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      return as_text();
    } else if constexpr (std::is_same_v<T, std::string>) {
      return to_string();
    } else {
      static_assert(sizeof(T) == 0, "Value::as<T>: unsupported type");
    }
  }

 private:
  template <typename T>
  struct is_optional : std::false_type {};
  template <typename T>
  struct is_optional<std::optional<T>> : std::true_type {};
  template <typename T>
  static bool in_range(int64_t v) {
    if constexpr (std::is_unsigned_v<T>) {
      return v >= 0 &&
             static_cast<uint64_t>(v) <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    } else {
      return v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max();
    }
  }
  [[noreturn]] void throw_range() const;
  [[noreturn]] void mismatch(const char* wanted) const;

  uint32_t oid_;
  const char* p_;
  int32_t len_;
};

// A readable name for a type OID ("int4"), or "oid <n>" for types without a C++ decoder.
std::string type_name(uint32_t oid);

}  // namespace fa::pg
