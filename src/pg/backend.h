// Backend message framing and body parsers for the PostgreSQL v3 protocol (docs §55.7).
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace fa::pg {

inline constexpr size_t kMaxMessageBytes = 1u << 30;  // 1 GiB: PostgreSQL's own field limit

// One framed backend message: type byte and body (without the 5-byte header).
struct Message {
  char type = 0;
  std::string_view body;
};

// Frames one message at the front of buf. Returns bytes consumed (>0), 0 if partial, -1 on a
// malformed length (less than 4 or over kMaxMessageBytes).
long frame_message(std::string_view buf, Message& msg);

// RowDescription ('T') field (§55.7).
struct FieldDesc {
  std::string_view name;
  uint32_t table_oid = 0;
  int16_t column = 0;
  uint32_t type_oid = 0;
  int16_t type_size = 0;
  int32_t type_mod = 0;
  int16_t format = 0;
};

// Parses a RowDescription body; returns false if malformed.
bool parse_row_description(std::string_view body, std::vector<FieldDesc>& out);
// Parses a ParameterDescription ('t') body; returns false if malformed.
bool parse_parameter_description(std::string_view body, std::vector<uint32_t>& out);

// Iterates the columns of a DataRow ('D'): next() returns false at the end or on a malformed body
// (then ok() is false). A NULL column yields is_null=true.
class DataRowReader {
 public:
  explicit DataRowReader(std::string_view body);
  int16_t count() const { return count_; }
  bool next(std::string_view& value, bool& is_null);
  bool ok() const { return ok_; }

 private:
  const char* p_;
  const char* end_;
  int16_t count_ = 0;
  int16_t seen_ = 0;
  bool ok_ = true;
};

// ErrorResponse/NoticeResponse fields: (code byte, value) pairs (§55.8), e.g. 'C' SQLSTATE, 'M' message.
bool parse_error_fields(std::string_view body, std::vector<std::pair<char, std::string_view>>& out);

// Returns the affected-row count in a CommandComplete tag ("INSERT 0 5" -> 5, "SELECT 3" -> 3), or -1.
int64_t command_rowcount(std::string_view tag);

// NotificationResponse ('A') body.
struct Notification {
  int32_t pid = 0;
  std::string_view channel;
  std::string_view payload;
};
bool parse_notification(std::string_view body, Notification& out);

}  // namespace fa::pg
