// Telling a TLS ClientHello from a plain-HTTP request on the first byte: a TLS connection
// starts with a handshake record, content type 22 (RFC 8446 §5.1, RFC 5246 §6.2.1).
#pragma once

#include <string_view>

namespace fa::tls {

inline constexpr unsigned char kHandshakeRecord = 0x16;

inline bool starts_like_tls(unsigned char first_byte) {
  return first_byte == kHandshakeRecord;
}

// What a plain-HTTP client gets on the TLS port instead of handshake garbage.
inline constexpr std::string_view kPlainHttpAnswer =
    "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 56\r\n"
    "Connection: close\r\n"
    "\r\n"
    "This port speaks HTTPS: use https:// instead of http://\n";

}  // namespace fa::tls
