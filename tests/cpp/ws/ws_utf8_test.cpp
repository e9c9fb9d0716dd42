// Utf8Validator against the well-formed table of Unicode §3.9 (Table 3-7) and Python's codec.
#include "ws/utf8_validator.h"

#include <gtest/gtest.h>

#include <string>

namespace fa::ws {
namespace {

TEST(WsUtf8, AcceptsWellFormed) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii, longer than sixteen bytes to use the fast path"));
  EXPECT_TRUE(valid_utf8("\xc2\x80\xdf\xbf"));                              // U+0080, U+07FF
  EXPECT_TRUE(valid_utf8("\xe0\xa0\x80\xed\x9f\xbf"));                      // U+0800, U+D7FF
  EXPECT_TRUE(valid_utf8("\xee\x80\x80\xef\xbf\xbf"));                      // U+E000, U+FFFF
  EXPECT_TRUE(valid_utf8("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));              // U+10000, U+10FFFF
  EXPECT_TRUE(valid_utf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // "κόσμε"
}

TEST(WsUtf8, RejectsMalformed) {
  for (std::string bad :
       {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
        "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80", "\xff", "\xfe", "\xc2\x41", "\xe1\x80\x41", "0123456789abcdef\x80"}) {
    EXPECT_FALSE(valid_utf8(bad)) << testing::PrintToString(bad);
  }
  EXPECT_FALSE(valid_utf8("\xe2\x82"));  // truncated at the end
}

TEST(WsUtf8, IncrementalAcrossEverySplit) {
  std::string s = "a\xf0\x9f\x98\x80 b \xe2\x82\xac c \xc3\xa9";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed(std::string_view(s).substr(0, cut)));
    EXPECT_TRUE(v.feed(std::string_view(s).substr(cut)));
    EXPECT_TRUE(v.complete()) << cut;
  }
  Utf8Validator v;
  EXPECT_TRUE(v.feed("\xf0\x9f"));
  EXPECT_FALSE(v.complete());
  EXPECT_FALSE(v.feed("\x41"));  // a sequence cut short by ASCII
  EXPECT_TRUE(v.failed());
  EXPECT_FALSE(v.feed("ok"));  // stays failed
}

TEST(WsUtf8, TracksWhetherEverythingWasAscii) {
  Utf8Validator v;
  EXPECT_TRUE(v.ascii());
  EXPECT_TRUE(v.feed(std::string(100, 'a')));  // the 16-byte fast path
  EXPECT_TRUE(v.ascii());
  EXPECT_TRUE(v.feed(std::string(40, 'b') + "\xc3\xa9"));  // past the fast path's blocks
  EXPECT_FALSE(v.ascii());
  EXPECT_TRUE(v.feed("plain again"));
  EXPECT_FALSE(v.ascii()) << "ascii() covers everything since reset()";
  v.reset();
  EXPECT_TRUE(v.ascii());
}

}  // namespace
}  // namespace fa::ws
