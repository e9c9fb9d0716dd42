// base64url decoding (RFC 4648 §5) for JWS segments and JWK members.
#include "mcp/auth/base64url.h"

#include <array>
#include <cstdint>

namespace fa::mcp::auth {
namespace {

constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<std::uint8_t>(i);
    t['a' + i] = static_cast<std::uint8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<std::uint8_t>(52 + i);
  t['-'] = 62;
  t['_'] = 63;
  return t;
}
constexpr std::array<std::uint8_t, 256> kTable = make_table();

}  // namespace

bool is_base64url(std::string_view s) noexcept {
  for (unsigned char c : s) {
    if (kTable[c] == kInvalid) return false;
  }
  return true;
}

std::optional<std::string> base64url_decode(std::string_view s) {
  if (s.size() % 4 == 1) return std::nullopt;  // 6 bits cannot end a byte
  std::string out;
  out.reserve(s.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : s) {
    std::uint8_t v = kTable[c];
    if (v == kInvalid) return std::nullopt;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace fa::mcp::auth
