// libFuzzer target: arbitrary server bytes through fa::pg::Protocol and the backend parsers,
// fed in chunks of 1..64 bytes (chosen by the first byte) to exercise resumption.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "pg/backend.h"
#include "pg/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fa::pg::Protocol p(fa::pg::ConnectParams{"u", "pw", "db", {}});
  p.start();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t chunk = size ? 1 + data[0] % 64 : 1;
  for (size_t pos = 0; pos < in.size(); pos += chunk) {
    p.feed(in.substr(pos, chunk));
    for (fa::pg::Event e = p.next();
         e.kind != fa::pg::EventKind::kNeedMore && e.kind != fa::pg::EventKind::kProtocolError;
         e = p.next()) {
      std::vector<fa::pg::FieldDesc> fields;
      std::vector<std::pair<char, std::string_view>> errors;
      std::vector<uint32_t> oids;
      fa::pg::Notification note;
      fa::pg::parse_row_description(e.body, fields);
      fa::pg::parse_error_fields(e.body, errors);
      fa::pg::parse_parameter_description(e.body, oids);
      fa::pg::parse_notification(e.body, note);
      fa::pg::command_rowcount(e.body);
      fa::pg::DataRowReader row(e.body);
      std::string_view value;
      bool null = false;
      while (row.next(value, null)) {
      }
    }
  }
  return 0;
}
