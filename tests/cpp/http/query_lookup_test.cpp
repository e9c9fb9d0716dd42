// Tests for fa::http::for_each_query_value: the pairs Python's parse_qsl(keep_blank_values=True)
// would give for one name, in order, values left raw.
#include "http/query_lookup.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace fa::http {
namespace {

std::vector<std::string> values(std::string_view query, std::string_view name) {
  std::vector<std::string> out;
  for_each_query_value(query, name, [&](std::string_view v) { out.emplace_back(v); });
  return out;
}

using V = std::vector<std::string>;

TEST(QueryLookup, ValuesInOrderRaw) {
  EXPECT_EQ(values("q=a&q=b+c&x=1&q=%41", "q"), (V{"a", "b+c", "%41"}));
  EXPECT_EQ(values("x=1", "q"), V{});
  EXPECT_EQ(values("", "q"), V{});
  EXPECT_EQ(values("qq=1&Q=2&q", "q"), V{""});  // exact, case-sensitive; no '=' is a blank value
}

TEST(QueryLookup, EmptyPiecesAndBlankNames) {
  EXPECT_EQ(values("&&q=1&&", "q"), V{"1"});
  EXPECT_EQ(values("=x&q=&=y", ""), (V{"x", "y"}));
  EXPECT_EQ(values("q=a=b", "q"), V{"a=b"});      // split at the first '='
  EXPECT_EQ(values("q=a;q=b", "q"), V{"a;q=b"});  // only '&' separates (Python 3.10+)
}

TEST(QueryLookup, NamesAreDecoded) {
  EXPECT_EQ(values("%71=1&q%2B=2&a+b=3&a%20b=4", "q"), V{"1"});
  EXPECT_EQ(values("%71=1&q%2B=2&a+b=3&a%20b=4", "q+"), V{"2"});
  EXPECT_EQ(values("%71=1&q%2B=2&a+b=3&a%20b=4", "a b"), (V{"3", "4"}));
  EXPECT_EQ(values("%zz=1&%7=2", "%zz"), V{"1"});  // a malformed escape is kept as is
  EXPECT_EQ(values("%zz=1&%7=2", "%7"), V{"2"});
}

TEST(QueryLookup, Ascii) {
  EXPECT_TRUE(is_ascii("q=a&b=%C3%A9"));
  EXPECT_FALSE(is_ascii("q=\xc3\xa9"));
  EXPECT_FALSE(is_ascii("\x80"));
}

}  // namespace
}  // namespace fa::http
