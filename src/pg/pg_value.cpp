// Value: binary decoders for the common types (the *_send formats of PostgreSQL's adt/*.c).
#include "pg/pg_value.h"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "pg/wire.h"

namespace fa::pg {

namespace {
// numeric_send sign words and digit base (src/backend/utils/adt/numeric.c).
constexpr uint16_t kNumericNeg = 0x4000, kNumericNaN = 0xC000, kNumericPinf = 0xD000,
                   kNumericNinf = 0xF000;
constexpr int kDecDigits = 4;         // each numeric digit word holds 0..9999
constexpr uint8_t kJsonbVersion = 1;  // jsonb_send's leading version byte

bool text_like(uint32_t oid) {
  switch (oid) {
    case oids::kText:
    case oids::kVarchar:
    case oids::kBpchar:
    case oids::kName:
    case oids::kChar:
    case oids::kJson:
    case oids::kXml:
    case oids::kUnknown:
      return true;
    default:
      return false;
  }
}

std::string numeric_text(std::string_view b) {
  Reader r(b);
  int16_t ndigits = r.be<int16_t>();
  int16_t weight = r.be<int16_t>();
  uint16_t sign = r.be<uint16_t>();
  int16_t dscale = r.be<int16_t>();
  if (!r.ok() || ndigits < 0 || dscale < 0 || r.remaining() != static_cast<size_t>(ndigits) * 2)
    throw DecodeError("malformed numeric value from server");
  if (sign == kNumericNaN) return "NaN";
  if (sign == kNumericPinf) return "Infinity";
  if (sign == kNumericNinf) return "-Infinity";
  auto digit = [&](int i) -> int {
    if (i < 0 || i >= ndigits) return 0;
    return read_be<int16_t>(b.data() + 8 + 2 * i);
  };
  std::string s;
  if (sign == kNumericNeg) s.push_back('-');
  if (weight < 0) {
    s.push_back('0');
  } else {
    for (int i = 0; i <= weight; ++i) {
      char buf[8];
      int d = digit(i);
      if (d < 0 || d > 9999) throw DecodeError("malformed numeric digit from server");
      if (i == 0) {
        auto res = std::to_chars(buf, buf + sizeof buf, d);
        s.append(buf, res.ptr);
      } else {
        std::snprintf(buf, sizeof buf, "%04d", d);
        s.append(buf, kDecDigits);
      }
    }
  }
  if (dscale > 0) {
    s.push_back('.');
    std::string frac;
    for (int i = weight + 1; static_cast<int>(frac.size()) < dscale; ++i) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04d", digit(i));
      frac.append(buf, kDecDigits);
    }
    s.append(frac, 0, static_cast<size_t>(dscale));
  }
  return s;
}

std::string uuid_text(std::string_view b) {
  if (b.size() != 16) throw DecodeError("malformed uuid value from server");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    auto c = static_cast<uint8_t>(b[i]);
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

std::string bytea_text(std::string_view b) {  // bytea_output = hex (§8.4.1)
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "\\x";
  s.reserve(2 + 2 * b.size());
  for (char ch : b) {
    auto c = static_cast<uint8_t>(ch);
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}
}  // namespace

std::string type_name(uint32_t oid) {
  switch (oid) {
    case oids::kBool:
      return "bool";
    case oids::kBytea:
      return "bytea";
    case oids::kChar:
      return "\"char\"";
    case oids::kName:
      return "name";
    case oids::kInt8:
      return "int8";
    case oids::kInt2:
      return "int2";
    case oids::kInt4:
      return "int4";
    case oids::kText:
      return "text";
    case oids::kOid:
      return "oid";
    case oids::kJson:
      return "json";
    case oids::kXml:
      return "xml";
    case oids::kFloat4:
      return "float4";
    case oids::kFloat8:
      return "float8";
    case oids::kUnknown:
      return "unknown";
    case oids::kBpchar:
      return "bpchar";
    case oids::kVarchar:
      return "varchar";
    case oids::kNumeric:
      return "numeric";
    case oids::kUuid:
      return "uuid";
    case oids::kJsonb:
      return "jsonb";
    default:
      return "oid " + std::to_string(oid);
  }
}

void Value::mismatch(const char* wanted) const {
  if (is_null()) throw DecodeError(std::string("NULL cannot be read as ") + wanted);
  throw DecodeError("a " + type_name(oid_) + " value cannot be read as " + wanted);
}

void Value::throw_range() const {
  throw DecodeError("a " + type_name(oid_) + " value is out of range for the requested C++ type");
}

bool Value::as_bool() const {
  if (is_null() || oid_ != oids::kBool) mismatch("bool");
  if (len_ != 1) throw DecodeError("malformed bool value from server");
  return p_[0] != 0;
}

int64_t Value::as_int() const {
  if (is_null()) mismatch("an integer");
  switch (oid_) {
    case oids::kInt2:
      if (len_ == 2) return read_be<int16_t>(p_);
      break;
    case oids::kInt4:
      if (len_ == 4) return read_be<int32_t>(p_);
      break;
    case oids::kOid:
      if (len_ == 4) return read_be<uint32_t>(p_);
      break;
    case oids::kInt8:
      if (len_ == 8) return read_be<int64_t>(p_);
      break;
    default:
      mismatch("an integer");
  }
  throw DecodeError("malformed " + type_name(oid_) + " value from server");
}

double Value::as_double() const {
  if (is_null()) mismatch("a floating-point number");
  if (oid_ == oids::kFloat8 && len_ == 8) {
    uint64_t u = read_be<uint64_t>(p_);
    double d;
    std::memcpy(&d, &u, sizeof d);
    return d;
  }
  if (oid_ == oids::kFloat4 && len_ == 4) {
    uint32_t u = read_be<uint32_t>(p_);
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  }
  if (oid_ == oids::kFloat8 || oid_ == oids::kFloat4)
    throw DecodeError("malformed float value from server");
  if (oid_ == oids::kInt2 || oid_ == oids::kInt4 || oid_ == oids::kInt8 || oid_ == oids::kOid)
    return static_cast<double>(as_int());
  mismatch("a floating-point number");
}

std::string_view Value::as_text() const {
  if (is_null()) mismatch("text");
  if (text_like(oid_)) return raw();
  if (oid_ == oids::kJsonb) {
    if (len_ < 1 || static_cast<uint8_t>(p_[0]) != kJsonbVersion)
      throw DecodeError("unsupported jsonb version from server");
    return raw().substr(1);
  }
  mismatch("text");
}

std::string Value::to_string() const {
  if (is_null()) mismatch("a string");
  switch (oid_) {
    case oids::kBool:
      return as_bool() ? "true" : "false";
    case oids::kInt2:
    case oids::kInt4:
    case oids::kInt8:
    case oids::kOid:
      return std::to_string(as_int());
    case oids::kFloat4:
    case oids::kFloat8: {
      char buf[32];  // shortest form that reads back exactly, in the column's own precision
      auto r = oid_ == oids::kFloat4
                   ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(as_double()))
                   : std::to_chars(buf, buf + sizeof buf, as_double());
      return std::string(buf, r.ptr);
    }
    case oids::kNumeric:
      return numeric_text(raw());
    case oids::kUuid:
      return uuid_text(raw());
    case oids::kBytea:
      return bytea_text(raw());
    default:
      if (text_like(oid_) || oid_ == oids::kJsonb) return std::string(as_text());
      throw DecodeError("no C++ decoder for a " + type_name(oid_) +
                        " value: cast it to text in the SQL (col::text) or read raw()");
  }
}

}  // namespace fa::pg
