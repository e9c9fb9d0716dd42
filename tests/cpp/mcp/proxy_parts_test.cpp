// The proxy's sans-I/O parts: names, listing rewrites, circuit breaker, token buckets.
#include <gtest/gtest.h>

#include "mcp/proxy/breaker.h"
#include "mcp/proxy/names.h"
#include "mcp/proxy/rate_limit.h"

namespace fa::mcp::proxy {
namespace {

using std::chrono::milliseconds;

TEST(ProxyNames, SplitAndQualify) {
  std::string_view up, name;
  EXPECT_TRUE(split_name("math__add", up, name));
  EXPECT_EQ(up, "math");
  EXPECT_EQ(name, "add");
  EXPECT_TRUE(split_name("math__add__more", up, name));
  EXPECT_EQ(name, "add__more");  // the first separator splits; the tool may use "__" itself
  EXPECT_FALSE(split_name("add", up, name));
  EXPECT_FALSE(split_name("__add", up, name));
  EXPECT_FALSE(split_name("Math__add", up, name));
  EXPECT_FALSE(split_name("math__", up, name));
  EXPECT_TRUE(split_uri("fs+file:///etc/x", up, name));
  EXPECT_EQ(up, "fs");
  EXPECT_EQ(name, "file:///etc/x");
  EXPECT_FALSE(split_uri("file:///etc/x", up, name));
  EXPECT_EQ(qualified_uri("fs", "a://b"), "fs+a://b");
  EXPECT_FALSE(valid_upstream_name("1abc"));
  EXPECT_FALSE(valid_upstream_name("a_b"));
  EXPECT_TRUE(valid_upstream_name("a-b2"));
}

TEST(ProxyNames, ListingRewriteKeepsEverythingElse) {
  std::string items, cursor;
  ASSERT_TRUE(qualify_listing(
      R"({"tools":[{"name":"add","title":"Add \"x\"","inputSchema":{"type":"object","properties":{"name":{"type":"string"}}}}],"nextCursor":"2"})",
      "tools", "name", "math", false, items, cursor));
  EXPECT_EQ(
      items,
      R"({"name":"math__add","title":"Add \"x\"","inputSchema":{"type":"object","properties":{"name":{"type":"string"}}}})");
  EXPECT_EQ(cursor, "2");
  ASSERT_TRUE(qualify_listing(R"({"resources":[{"uri":"a://1"}]})", "resources", "uri", "fs", true,
                              items, cursor));
  EXPECT_NE(items.find(R"({"uri":"fs+a://1"})"), std::string::npos);
  EXPECT_EQ(cursor, "");
  EXPECT_FALSE(qualify_listing("[1]", "tools", "name", "x", false, items, cursor));
  EXPECT_FALSE(qualify_listing("{not json", "tools", "name", "x", false, items, cursor));
}

TEST(ProxyNames, ModernMembersDroppedAndCompletionRefUnqualified) {
  EXPECT_EQ(without_members(R"({"resultType":"complete","content":[],"ttlMs":0})",
                            {"resultType", "ttlMs"}),
            R"({"content":[]})");
  // Spliced byte for byte: strings holding braces, quotes and commas, nesting, whitespace.
  EXPECT_EQ(without_members(
                R"( { "resultType" : "complete" , "content":[{"type":"text","text":"a\"},{[\"b"}],)"
                R"("structuredContent":{"ttlMs":1,"x":[1,{"y":"}"}]},"isError":false,"n":-1.5e3 ,)"
                R"("cacheScope":"private"} )",
                {"resultType", "ttlMs", "cacheScope"}),
            R"({"content":[{"type":"text","text":"a\"},{[\"b"}],)"
            R"("structuredContent":{"ttlMs":1,"x":[1,{"y":"}"}]},"isError":false,"n":-1.5e3})");
  EXPECT_EQ(without_members(R"({"resultType":"complete"})", {"resultType"}), "{}");
  EXPECT_EQ(without_members("{}", {"resultType"}), "{}");
  // An escaped key takes the parser's path, which unescapes it: still dropped.
  EXPECT_EQ(without_members(R"({"resultType":"complete","a":1})", {"resultType"}),
            R"({"a":1})");
  EXPECT_EQ(without_members("[1]", {"resultType"}), "[1]");  // not an object: unchanged
  std::string up, members;
  ASSERT_TRUE(unqualify_completion(
      R"({"ref":{"type":"ref/prompt","name":"math__review"},"argument":{"name":"l","value":"p"},"_meta":{"x":1}})",
      up, members));
  EXPECT_EQ(up, "math");
  EXPECT_EQ(members,
            R"("ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"l","value":"p"})");
  EXPECT_FALSE(
      unqualify_completion(R"({"ref":{"type":"ref/prompt","name":"review"}})", up, members));
}

TEST(ProxyBreaker, ClosedOpenHalfOpenClosed) {
  CircuitBreaker b({.failure_threshold = 3, .cooldown = milliseconds(100), .half_open_probes = 1});
  TimePoint t{};
  EXPECT_TRUE(b.allow(t));
  b.failure(t);
  b.failure(t);
  b.success();  // a success resets the count
  b.failure(t);
  b.failure(t);
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kClosed);
  b.failure(t);
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(b.allow(t + milliseconds(50)));
  EXPECT_EQ(b.retry_in(t + milliseconds(40)), milliseconds(60));
  EXPECT_EQ(b.state(t + milliseconds(100)), CircuitBreaker::State::kHalfOpen);
  EXPECT_TRUE(b.allow(t + milliseconds(100)));   // the one probe
  EXPECT_FALSE(b.allow(t + milliseconds(101)));  // no second probe while it runs
  b.failure(t + milliseconds(110));              // the probe failed: open again
  EXPECT_EQ(b.state(t + milliseconds(150)), CircuitBreaker::State::kOpen);
  EXPECT_TRUE(b.allow(t + milliseconds(210)));
  b.success();
  EXPECT_EQ(b.state(t + milliseconds(210)), CircuitBreaker::State::kClosed);
}

TEST(ProxyRateLimit, TokenBucketPerKey) {
  RateLimiter r({.rate = 2, .burst = 2, .max_clients = 2});
  TimePoint t{};
  Duration wait;
  EXPECT_TRUE(r.take("a", t, wait));
  EXPECT_TRUE(r.take("a", t, wait));
  EXPECT_FALSE(r.take("a", t, wait));
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(wait), milliseconds(500));
  EXPECT_TRUE(r.take("b", t, wait));                      // another client has its own bucket
  EXPECT_TRUE(r.take("a", t + milliseconds(500), wait));  // refilled one token
  EXPECT_TRUE(r.take("c", t + milliseconds(600), wait));  // over max_clients: pruned, bounded
  EXPECT_LE(r.clients(), 2u);
  RateLimiter off;
  EXPECT_TRUE(off.take("x", t, wait));
}

}  // namespace
}  // namespace fa::mcp::proxy
