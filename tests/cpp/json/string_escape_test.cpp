// Tests for fa::json::append_json_string and find_escape.
#include "json/string_escape.h"

#include <gtest/gtest.h>

#include <string>

namespace fa::json {
namespace {

std::string quote(std::string_view s) {
  std::string out;
  {
    OutputBuffer buf(out);
    append_json_string(buf, s);
  }
  return out;
}

TEST(StringEscape, PlainAsciiIsQuoted) { EXPECT_EQ(quote("Hello, World!"), "\"Hello, World!\""); }

TEST(StringEscape, EmptyString) { EXPECT_EQ(quote(""), "\"\""); }

TEST(StringEscape, ShortEscapes) {
  EXPECT_EQ(quote("a\"b\\c\b\f\n\r\t"), R"("a\"b\\c\b\f\n\r\t")");
}

TEST(StringEscape, OtherControlCharactersUseLowercaseHex) {
  EXPECT_EQ(quote(std::string_view("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(quote("\x1b"), R"("\u001b")");
}

TEST(StringEscape, DelAndNonAsciiPassThrough) {
  EXPECT_EQ(quote("\x7f"), "\"\x7f\"");
  EXPECT_EQ(quote("caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80\"");
}

TEST(StringEscape, EscapesAtEveryOffsetOfALongString) {
  // Puts the escaped byte in each lane of the 16-byte scan and in the scalar tail.
  for (std::size_t len = 1; len < 70; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      std::string s(len, 'x');
      s[at] = '\n';
      std::string want = "\"";
      want.append(s, 0, at).append("\\n").append(s, at + 1).append("\"");
      ASSERT_EQ(quote(s), want) << len << " " << at;
    }
  }
}

TEST(StringEscape, FindEscapeTreatsHighBytesAsPlain) {
  std::string s(40, '\x80');
  EXPECT_EQ(find_escape(s.data(), s.data() + s.size()), s.data() + s.size());
  s[33] = '"';
  EXPECT_EQ(find_escape(s.data(), s.data() + s.size()), s.data() + 33);
  s[20] = ' ';
  s[5] = '\x1f';
  EXPECT_EQ(find_escape(s.data(), s.data() + s.size()), s.data() + 5);
}

TEST(StringEscape, AllEscapesInOneLongString) {
  std::string s;
  std::string want = "\"";
  for (int i = 0; i < 300; ++i) {
    s += '"';
    want += "\\\"";
  }
  want += '"';
  EXPECT_EQ(quote(s), want);
}

}  // namespace
}  // namespace fa::json
