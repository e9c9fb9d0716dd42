// Backend message framing and body parsers.
#include "pg/backend.h"

#include <charconv>

#include "pg/wire.h"

namespace fa::pg {

long frame_message(std::string_view buf, Message& msg) {
  if (buf.size() < 5) return 0;
  int32_t len = read_be<int32_t>(buf.data() + 1);
  if (len < 4 || static_cast<size_t>(len) > kMaxMessageBytes) return -1;
  size_t total = static_cast<size_t>(len) + 1;
  if (buf.size() < total) return 0;
  msg.type = buf[0];
  msg.body = buf.substr(5, static_cast<size_t>(len) - 4);
  return static_cast<long>(total);
}

bool parse_row_description(std::string_view body, std::vector<FieldDesc>& out) {
  Reader r(body);
  int16_t n = r.be<int16_t>();
  if (n < 0) return false;
  out.clear();
  out.reserve(static_cast<size_t>(n));
  for (int16_t i = 0; i < n && r.ok(); ++i) {
    FieldDesc f;
    f.name = r.cstr();
    f.table_oid = r.be<uint32_t>();
    f.column = r.be<int16_t>();
    f.type_oid = r.be<uint32_t>();
    f.type_size = r.be<int16_t>();
    f.type_mod = r.be<int32_t>();
    f.format = r.be<int16_t>();
    out.push_back(f);
  }
  return r.ok();
}

bool parse_parameter_description(std::string_view body, std::vector<uint32_t>& out) {
  Reader r(body);
  int16_t n = r.be<int16_t>();
  if (n < 0) return false;
  out.clear();
  for (int16_t i = 0; i < n && r.ok(); ++i) out.push_back(r.be<uint32_t>());
  return r.ok();
}

DataRowReader::DataRowReader(std::string_view body) : p_(body.data()), end_(body.data() + body.size()) {
  if (body.size() < 2) { ok_ = false; return; }
  count_ = read_be<int16_t>(p_);
  p_ += 2;
  if (count_ < 0) ok_ = false;
}

bool DataRowReader::next(std::string_view& value, bool& is_null) {
  if (!ok_ || seen_ >= count_) return false;
  if (end_ - p_ < 4) { ok_ = false; return false; }
  int32_t len = read_be<int32_t>(p_);
  p_ += 4;
  ++seen_;
  if (len < 0) { is_null = true; value = {}; return true; }
  if (end_ - p_ < len) { ok_ = false; return false; }
  is_null = false;
  value = std::string_view(p_, static_cast<size_t>(len));
  p_ += len;
  return true;
}

bool parse_error_fields(std::string_view body, std::vector<std::pair<char, std::string_view>>& out) {
  Reader r(body);
  out.clear();
  while (r.ok() && r.remaining() > 0) {
    char code = static_cast<char>(r.be<uint8_t>());
    if (code == 0) return true;
    std::string_view v = r.cstr();
    if (r.ok()) out.emplace_back(code, v);
  }
  return false;
}

int64_t command_rowcount(std::string_view tag) {
  size_t sp = tag.rfind(' ');
  if (sp == std::string_view::npos) return -1;
  std::string_view num = tag.substr(sp + 1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || p != num.data() + num.size()) return -1;
  return v;
}

bool parse_notification(std::string_view body, Notification& out) {
  Reader r(body);
  out.pid = r.be<int32_t>();
  out.channel = r.cstr();
  out.payload = r.cstr();
  return r.ok();
}

}  // namespace fa::pg
