// HTTP status lines from a generated table (tools/gen_status_table.py).
#pragma once

#include <string_view>

namespace fa::http {

// "HTTP/1.1 200 OK\r\n" for any code 100..999 (unknown codes get an empty reason phrase).
std::string_view status_line(int code);
// The reason phrase ("OK"); empty for an unknown code.
std::string_view reason_phrase(int code);

}  // namespace fa::http
