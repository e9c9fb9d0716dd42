// FrontendWriter: encodes PostgreSQL v3 frontend messages (protocol docs §55.7) into a byte buffer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fa::pg {

inline constexpr int32_t kProtocolVersion3 = 196608;     // 3.0: (3 << 16) | 0
inline constexpr int32_t kSslRequestCode = 80877103;     // §55.2.10 SSLRequest
inline constexpr int32_t kCancelRequestCode = 80877102;  // §55.2.7 CancelRequest

enum class Format : int16_t { kText = 0, kBinary = 1 };

// Appends frontend messages to out(); each append_* writes exactly one complete message.
class FrontendWriter {
 public:
  std::string& out() { return out_; }

  // StartupMessage with (name, value) parameters such as user, database, application_name.
  void startup(std::span<const std::pair<std::string, std::string>> params);
  void password(std::string_view pw);                               // 'p' PasswordMessage
  void sasl_initial(std::string_view mechanism, std::string_view data);  // 'p' SASLInitialResponse
  void sasl_response(std::string_view data);                         // 'p' SASLResponse
  void query(std::string_view sql);                                  // 'Q' simple query
  void parse(std::string_view name, std::string_view sql, std::span<const uint32_t> param_oids);
  void describe_statement(std::string_view name);                    // 'D' 'S'
  void describe_portal(std::string_view name);                       // 'D' 'P'
  void execute(std::string_view portal, int32_t max_rows = 0);       // 'E'
  void sync();                                                       // 'S'
  void flush();                                                      // 'H'
  void close_statement(std::string_view name);                       // 'C' 'S'
  void terminate();                                                  // 'X'
  void copy_data(std::string_view data);                             // 'd'
  void copy_done();                                                  // 'c'
  void copy_fail(std::string_view reason);                           // 'f'

  // Bind is written in three steps so parameter values are encoded straight into the buffer:
  // begin_bind(); then per parameter either bind_null() or begin_param()..(append to out())..end_param();
  // then end_bind(result formats).
  void begin_bind(std::string_view portal, std::string_view stmt, std::span<const int16_t> param_formats,
                  int16_t nparams);
  void bind_null();
  size_t begin_param();          // returns the position of the length word
  void end_param(size_t pos);    // patches the length word
  void end_bind(std::span<const int16_t> result_formats);

  // Opens a message of the given type; returns its start for end_message().
  size_t begin_message(char type);
  void end_message(size_t start);

 private:
  std::string out_;
  size_t bind_start_ = 0;
};

// Encodes a CancelRequest packet (16 bytes) for a separate connection (§55.2.7).
std::string cancel_request(int32_t pid, int32_t secret);
// Encodes an SSLRequest packet (8 bytes); the server answers one byte, 'S' or 'N' (§55.2.10).
std::string ssl_request();

}  // namespace fa::pg
