// Tests for fa::json::OutputBuffer and the integer formatter.
#include "json/output_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "json/int_format.h"

namespace fa::json {
namespace {

TEST(OutputBuffer, AppendsAfterExistingContent) {
  std::string s = "HTTP/1.1 200 OK\r\n\r\n";
  {
    OutputBuffer b(s);
    b.put('{');
    b.write("\"a\":1");
    b.put('}');
    EXPECT_EQ(b.view(), "{\"a\":1}");
    EXPECT_EQ(b.written(), 7u);
  }
  EXPECT_EQ(s, "HTTP/1.1 200 OK\r\n\r\n{\"a\":1}");
}

TEST(OutputBuffer, GrowsPastTheInitialSlack) {
  std::string s = "x";
  std::string want = "x";
  {
    OutputBuffer b(s);
    for (int i = 0; i < 100000; ++i) {
      char c = static_cast<char>('a' + i % 26);
      b.put(c);
      want += c;
    }
  }
  EXPECT_EQ(s, want);
}

TEST(OutputBuffer, RollbackRestoresTheOriginal) {
  std::string s = "keep";
  {
    OutputBuffer b(s);
    b.write(std::string(10000, 'z'));
    b.rollback();
  }
  EXPECT_EQ(s, "keep");
}

TEST(OutputBuffer, CommitTrimsAndStaysUsable) {
  std::string s;
  OutputBuffer b(s);
  b.write("ab");
  b.commit();
  EXPECT_EQ(s, "ab");
  b.write("cd");
  b.commit();
  EXPECT_EQ(s, "abcd");
}

TEST(OutputBuffer, EnsureThenAdvance) {
  std::string s;
  {
    OutputBuffer b(s);
    char* p = b.ensure(kMaxIntChars);
    b.set_cursor(format_int(std::numeric_limits<std::int64_t>::min(), p));
    b.put(',');
    p = b.ensure(kMaxIntChars);
    b.set_cursor(format_uint(std::numeric_limits<std::uint64_t>::max(), p));
    b.put(',');
    p = b.ensure(kMaxIntChars);
    b.set_cursor(format_int(0, p));
  }
  EXPECT_EQ(s, "-9223372036854775808,18446744073709551615,0");
}

}  // namespace
}  // namespace fa::json
