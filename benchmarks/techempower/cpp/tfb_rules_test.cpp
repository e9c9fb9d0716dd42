// TFB's rules as the C++ entry applies them (validate.py checks the same over HTTP).
#include "tfb_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tfb {
namespace {

TEST(TfbRules, QueryCountClampsAsTfbSays) {
  // validate.py's cases: not an integer or < 1 → 1, > 500 → 500.
  EXPECT_EQ(query_count("queries=2", "queries"), 2);
  EXPECT_EQ(query_count("queries=0", "queries"), 1);
  EXPECT_EQ(query_count("queries=foo", "queries"), 1);
  EXPECT_EQ(query_count("queries=", "queries"), 1);
  EXPECT_EQ(query_count("queries=501", "queries"), 500);
  EXPECT_EQ(query_count("queries=20", "queries"), 20);
  EXPECT_EQ(query_count("queries=-5", "queries"), 1);
  EXPECT_EQ(query_count("", "queries"), 1);
  EXPECT_EQ(query_count("queries", "queries"), 1);
  // Past int range, leading zeros, a sign, trailing junk, the key among others.
  EXPECT_EQ(query_count("queries=99999999999999999999", "queries"), 500);
  EXPECT_EQ(query_count("queries=0007", "queries"), 7);
  EXPECT_EQ(query_count("queries=+3", "queries"), 3);
  EXPECT_EQ(query_count("queries=3x", "queries"), 1);
  EXPECT_EQ(query_count("a=1&queries=9&b=2", "queries"), 9);
  EXPECT_EQ(query_count("xqueries=9", "queries"), 1);
  EXPECT_EQ(query_count("count=100", "count"), 100);
}

TEST(TfbRules, WorldsAreTfbJson) {
  std::string out;
  append_worlds(out, std::vector<World>{{1, 2}, {10000, 37}});
  EXPECT_EQ(out, R"([{"id":1,"randomNumber":2},{"id":10000,"randomNumber":37}])");
  out.clear();
  append_worlds(out, std::vector<World>{});
  EXPECT_EQ(out, "[]");
  EXPECT_EQ(hello_json(), R"({"message":"Hello, World!"})");
}

TEST(TfbRules, HtmlEscapingCoversTextAndAttributes) {
  std::string out;
  append_html_escaped(out, R"(<script>alert("x" & 'y');</script>)");
  EXPECT_EQ(out, "&lt;script&gt;alert(&quot;x&quot; &amp; &#x27;y&#x27;);&lt;/script&gt;");
  out.clear();
  append_html_escaped(out, "フレームワークのベンチマーク");  // UTF-8 passes through
  EXPECT_EQ(out, "フレームワークのベンチマーク");
}

TEST(TfbRules, FortunesAddTheRowSortAndEscape) {
  std::string page = fortunes_page(
      {{11, "<script>alert(\"x\");</script>"}, {2, "フレームワーク"}, {3, "A computer program"}});
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  size_t script = page.find("<tr><td>11</td><td>&lt;script&gt;");
  size_t computer = page.find("<tr><td>3</td><td>A computer program</td></tr>");
  size_t added = page.find("<tr><td>0</td><td>Additional fortune added at request time.</td></tr>");
  size_t kana = page.find("<tr><td>2</td><td>フレームワーク</td></tr>");
  ASSERT_NE(script, std::string::npos);
  ASSERT_NE(computer, std::string::npos);
  ASSERT_NE(added, std::string::npos);
  ASSERT_NE(kana, std::string::npos);
  // Code point order: "<" (0x3C) < "A computer" < "Additional" < non-ASCII.
  EXPECT_LT(script, computer);
  EXPECT_LT(computer, added);
  EXPECT_LT(added, kana);
  EXPECT_TRUE(page.ends_with("</table></body></html>"));
}

}  // namespace
}  // namespace tfb
