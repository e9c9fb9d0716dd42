// Utf8Validator: incremental UTF-8 validation (RFC 3629 §4; Unicode Table 3-7), for text
// messages that arrive in pieces (RFC 6455 §8.1: invalid UTF-8 fails the connection, 1007).
#pragma once

#include <cstdint>
#include <string_view>

namespace fa::ws {

class Utf8Validator {
 public:
  // Feeds the next bytes. Returns false at the first byte that can never be part of valid
  // UTF-8 (overlong forms, surrogates, > U+10FFFF, stray continuation bytes); the validator
  // then stays failed until reset().
  bool feed(std::string_view bytes);
  // True when everything fed so far ends on a character boundary.
  bool complete() const { return need_ == 0 && !failed_; }
  bool failed() const { return failed_; }
  // True while every byte fed since reset() was ASCII (< 0x80): a binding can then build its
  // string by copying, without decoding again.
  bool ascii() const { return ascii_; }
  void reset() { need_ = 0, lo_ = 0x80, hi_ = 0xBF, failed_ = false, ascii_ = true; }

 private:
  uint8_t need_ = 0;               // continuation bytes still expected
  uint8_t lo_ = 0x80, hi_ = 0xBF;  // allowed range of the next continuation byte
  bool failed_ = false;
  bool ascii_ = true;
};

// Whole-buffer check.
inline bool valid_utf8(std::string_view s) {
  Utf8Validator v;
  return v.feed(s) && v.complete();
}

}  // namespace fa::ws
