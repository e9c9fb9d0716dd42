// The HTTP/2 client connection preface (RFC 9113 §3.4): h2c "prior knowledge" is recognised by
// these 24 bytes arriving first on a plain-TCP connection (§3.3).
#pragma once

#include <string_view>

namespace fa::h2 {

inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class PrefaceMatch { kNo, kPartial, kYes };

// kPartial: `in` is a proper prefix of the preface (wait for more bytes).
inline PrefaceMatch match_preface(std::string_view in) {
  if (in.size() >= kClientPreface.size())
    return in.substr(0, kClientPreface.size()) == kClientPreface ? PrefaceMatch::kYes
                                                                 : PrefaceMatch::kNo;
  return kClientPreface.substr(0, in.size()) == in ? PrefaceMatch::kPartial : PrefaceMatch::kNo;
}

}  // namespace fa::h2
