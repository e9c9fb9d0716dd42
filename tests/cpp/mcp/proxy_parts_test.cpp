// The proxy's sans-I/O parts: names, listing rewrites, circuit breaker, token buckets.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "mcp/json_gen.h"
#include "mcp/jsonrpc.h"
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

TEST(ProxyNames, WithoutMembersTouchesOnlyTheTopLevel) {
  const std::initializer_list<std::string_view> drop = {"resultType", "ttlMs", "cacheScope"};
  // Nested objects with the same member names are copied as they are.
  EXPECT_EQ(without_members(R"({"a":{"resultType":"x","ttlMs":1},"resultType":"complete",)"
                            R"("b":[{"cacheScope":"private"}]})",
                            drop),
            R"({"a":{"resultType":"x","ttlMs":1},"b":[{"cacheScope":"private"}]})");
  // Strings holding the names, quotes, braces and commas are values, not members.
  EXPECT_EQ(without_members(R"({"text":"\",\"resultType\":\"c\"}","resultType":"c",)"
                            R"("t2":["ttlMs\\",{"x":"}"}]})",
                            drop),
            R"({"text":"\",\"resultType\":\"c\"}","t2":["ttlMs\\",{"x":"}"}]})");
  // Whitespace around members, colons and commas: the kept members are written compact.
  EXPECT_EQ(without_members("{\n  \"a\" : 1 ,\t\"ttlMs\":\r\n5 , \"b\":[ 1, 2 ] ,"
                            "\"cacheScope\" :\"x\" }",
                            drop),
            R"({"a":1,"b":[ 1, 2 ]})");
  // Nothing to drop: the same bytes; everything dropped: an empty object.
  EXPECT_EQ(without_members(R"({"content":[],"isError":false})", drop),
            R"({"content":[],"isError":false})");
  EXPECT_EQ(without_members(R"({"ttlMs":0,"resultType":"complete","cacheScope":"x"})", drop), "{}");
  // Escapes and brackets on every offset of a 16-byte block, in a string and in an array.
  for (size_t pad = 0; pad < 40; ++pad) {
    const std::string text(pad, 'p');
    const std::string in = R"({"a":")" + text + R"(\\\"]}\\","b":[")" + text +
                           R"(\\\"]}",{"c":"\\"}],"ttlMs":1,"d":2})";
    const std::string want =
        R"({"a":")" + text + R"(\\\"]}\\","b":[")" + text + R"(\\\"]}",{"c":"\\"}],"d":2})";
    EXPECT_EQ(without_members(in, drop), want) << in;
    const std::string cut = in.substr(0, in.size() - 12 - pad % 3);  // cut short: unchanged
    EXPECT_EQ(without_members(cut, drop), cut);
  }
}

// The members of `root` but resultType, ttlMs and cacheScope, as simdjson's DOM reads them
// (keys unescaped and re-encoded, values minified).
std::string dom_without(simdjson::dom::object root) {
  std::string out = "{";
  for (auto [k, v] : root) {
    if (k == "resultType" || k == "ttlMs" || k == "cacheScope") continue;
    if (out.size() > 1) out += ',';
    append_string(out, k);
    out += ':';
    out += simdjson::minify(v);
  }
  return out + "}";
}

TEST(ProxyNames, WithoutMembersAgreesWithTheDom) {
  // Generated objects (json_gen.h), spaced and compact: the members the DOM sees, minus the
  // dropped ones, are the output's; compact input comes out as its kept members' own bytes.
  testing::JsonGen gen(20260728);
  for (int i = 0; i < 4000; ++i) {
    const bool spaced = i % 2 == 1;
    gen.spaced(spaced);
    std::vector<std::string> names = {"resultType"};
    if (i % 3 == 0) names.push_back("ttlMs");
    std::vector<std::pair<std::string, std::string>> members;  // compact: built here
    std::string in;
    if (spaced) {
      in = gen.object(3, names);
    } else {
      static const char* const kKeys[] = {"content", "resultType", "ttlMs",
                                          "isError", "cacheScope", "structuredContent"};
      for (int n = gen.below(5); n > 0; --n) names.push_back(kKeys[gen.below(6)]);
      in = "{";
      std::string want = "{";
      for (const std::string& name : names) {
        std::string value = gen.value(3);
        if (in.size() > 1) in += ',';
        in += "\"" + name + "\":" + value;
        if (name == "resultType" || name == "ttlMs" || name == "cacheScope") continue;
        if (want.size() > 1) want += ',';
        want += "\"" + name + "\":" + value;
      }
      in += "}";
      EXPECT_EQ(without_members(in, {"resultType", "ttlMs", "cacheScope"}), want + "}") << in;
    }
    std::string got = without_members(in, {"resultType", "ttlMs", "cacheScope"});
    simdjson::dom::parser parser, again;
    simdjson::dom::element doc, out_doc;
    simdjson::dom::object root, out_root;
    ASSERT_FALSE(parser.parse(in).get(doc) || doc.get_object().get(root)) << in;
    ASSERT_FALSE(again.parse(got).get(out_doc) || out_doc.get_object().get(out_root)) << got;
    EXPECT_EQ(dom_without(out_root), dom_without(root)) << in;
  }
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
  // An escaped key is read unescaped: still dropped; others are copied as written.
  EXPECT_EQ(without_members(R"({"result\u0054ype":"complete","a":1})", {"resultType"}),
            R"({"a":1})");
  EXPECT_EQ(without_members(R"({"\u0072esultType":"c","ttl\u004ds":0,"k\"\\":[]})",
                            {"resultType", "ttlMs"}),
            R"({"k\"\\":[]})");
  EXPECT_EQ(without_members(R"({"resultTyp\u00e9":1})", {"resultType"}),
            R"({"resultTyp\u00e9":1})");  // decodes to non-ASCII: not a dropped name
  // Backslash runs before a quote: even ends the string, odd escapes it.
  EXPECT_EQ(without_members(R"({"a":"x\\","b":"y\\\"}","ttlMs":1})", {"ttlMs"}),
            R"({"a":"x\\","b":"y\\\"}"})");
  // Not an object the scanner can follow (cut short, no colon, garbage): unchanged.
  for (std::string_view bad : {R"({"a":[1,2})", R"({"a" 1})", R"({"a":"x)", R"({"a":1,})",
                               R"({"a":1 "b":2})", R"({,})", "", "   "})
    EXPECT_EQ(without_members(bad, {"a"}), bad);
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
