// JSON-RPC 2.0 parsing and encoding (src/mcp/jsonrpc.h).
#include "mcp/jsonrpc.h"

#include <gtest/gtest.h>

#include <string>

namespace fa::mcp {
namespace {

struct Parsed {
  bool ok;
  Message msg;
  ParseFailure failure;
};

Parsed parse(Parser& p, std::string_view text) {
  Parsed r;
  r.ok = p.parse(text, r.msg, r.failure);
  return r;
}

TEST(McpJsonRpc, RequestWithNumberIdAndParams) {
  Parser p;
  auto r = parse(p, R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{"a":1}}})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.msg.kind, MessageKind::kRequest);
  EXPECT_EQ(r.msg.id, "7");
  EXPECT_EQ(r.msg.method, "tools/call");
  EXPECT_EQ(r.msg.params, R"({"name":"x","arguments":{"a":1}})");
}

TEST(McpJsonRpc, StringIdKeepsItsQuotesAndEscapedMethodIsUnescaped) {
  Parser p;
  auto r = parse(p, R"( {"id" : "a\"b" , "method":"pi\u006eg", "jsonrpc":"2.0"} )");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.msg.id, R"("a\"b")");
  EXPECT_EQ(r.msg.method, "ping");
  EXPECT_TRUE(r.msg.params.empty());
}

// The fast paths (an integer id, "2.0" compared raw) must not change what is accepted.
TEST(McpJsonRpc, NumberIdsAndVersionSpellings) {
  Parser p;
  for (std::string_view id : {"1.5", "-3", "1e3", "12345678901234567890"}) {
    std::string text = R"({"jsonrpc":"2.0","method":"ping","id":)" + std::string(id) + "}";
    auto r = parse(p, text);
    ASSERT_TRUE(r.ok) << id;
    EXPECT_EQ(r.msg.id, id);
  }
  auto escaped = parse(p, R"({"jsonrpc":"\u0032.0","method":"ping","id":1})");
  EXPECT_TRUE(escaped.ok);
  for (std::string_view bad : {R"("2.00")", R"("2")", R"(2.0)", R"("2.0\n")"}) {
    std::string text = R"({"jsonrpc":)" + std::string(bad) + R"(,"method":"ping","id":1})";
    auto r = parse(p, text);
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_EQ(r.failure.code, kInvalidRequest) << bad;
  }
  auto bad_number = parse(p, R"({"jsonrpc":"2.0","method":"ping","id":1.})");
  EXPECT_FALSE(bad_number.ok);
  // Member names of the same length and first letters are not confused.
  auto near = parse(p, R"({"jsonrpc":"2.0","method":"tools/call","id":2,"params":{"nam":"x","names":"y","_met":{}}})");
  ASSERT_TRUE(near.ok);
  EXPECT_FALSE(near.msg.known.has_name);
  EXPECT_FALSE(near.msg.known.has_meta);
}

TEST(McpJsonRpc, NotificationResponseAndError) {
  Parser p;
  auto n = parse(p, R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.msg.kind, MessageKind::kNotification);
  auto r = parse(p, R"({"jsonrpc":"2.0","id":1,"result":{"x":[1,2]}})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.msg.kind, MessageKind::kResponse);
  EXPECT_EQ(r.msg.result, R"({"x":[1,2]})");
  auto e = parse(p, R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}})");
  ASSERT_TRUE(e.ok);
  EXPECT_EQ(e.msg.kind, MessageKind::kError);
  EXPECT_EQ(e.msg.error_code, -32601);
}

TEST(McpJsonRpc, MalformedJsonIsParseError) {
  Parser p;
  for (std::string_view bad : {"{", "{\"jsonrpc\":", "not json", "{\"a\":1}}", "\"\\x\""}) {
    auto r = parse(p, bad);
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_EQ(r.failure.code, kParseError) << bad;
    EXPECT_TRUE(r.failure.id.empty());
  }
}

TEST(McpJsonRpc, InvalidRequests) {
  Parser p;
  struct Case {
    std::string_view text;
    int code;
  } cases[] = {
      {R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", kInvalidRequest},  // batch
      {R"(42)", kInvalidRequest},
      {R"({"id":1,"method":"ping"})", kInvalidRequest},                    // no jsonrpc
      {R"({"jsonrpc":"1.0","id":1,"method":"ping"})", kInvalidRequest},
      {R"({"jsonrpc":"2.0","id":null,"method":"ping"})", kInvalidRequest},  // MCP: id not null
      {R"({"jsonrpc":"2.0","id":{},"method":"ping"})", kInvalidRequest},
      {R"({"jsonrpc":"2.0","id":1,"method":5})", kInvalidRequest},
      {R"({"jsonrpc":"2.0","id":1})", kInvalidRequest},
      {R"({"jsonrpc":"2.0","id":1,"method":"x","params":[1]})", kInvalidParams},
      {R"({"jsonrpc":"2.0","id":1,"method":"x","params":3})", kInvalidParams},
  };
  for (auto& c : cases) {
    auto r = parse(p, c.text);
    EXPECT_FALSE(r.ok) << c.text;
    EXPECT_EQ(r.failure.code, c.code) << c.text;
  }
  auto r = parse(p, R"({"jsonrpc":"2.0","id":"k","method":"x","params":[1]})");
  EXPECT_EQ(r.failure.id, R"("k")");  // answered with the request's id
}

TEST(McpJsonRpc, OversizedMessageIsRefused) {
  Parser p;
  std::string big = R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"s":")" +
                    std::string(kMaxMessageBytes, 'a') + "\"}}";
  auto r = parse(p, big);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure.code, kInvalidRequest);
}

TEST(McpJsonRpc, Members) {
  Parser p;
  std::string_view obj = R"({"name":"t\n1","arguments":{"a":[1,{"b":2}]},"_meta":{"progressToken":5}})";
  std::string_view name;
  ASSERT_TRUE(p.string_member(obj, "name", name));
  EXPECT_EQ(name, "t\n1");
  EXPECT_EQ(p.raw_member(obj, "arguments"), R"({"a":[1,{"b":2}]})");
  auto meta = p.raw_member(obj, "_meta");
  EXPECT_EQ(p.raw_member(meta, "progressToken"), "5");
  EXPECT_TRUE(p.raw_member(obj, "missing").empty());
  EXPECT_FALSE(p.string_member(obj, "arguments", name));
}

TEST(McpJsonRpc, Envelopes) {
  std::string out;
  encode_result(out, "3", "{}");
  EXPECT_EQ(out, R"({"jsonrpc":"2.0","id":3,"result":{}})");
  out.clear();
  encode_error(out, {}, kParseError, "Parse \"error\"");
  EXPECT_EQ(out, R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse \"error\""}})");
  out.clear();
  encode_notification(out, "notifications/progress", R"({"progress":1})");
  EXPECT_EQ(out, R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})");
  // A result appended after what the buffer holds, and an empty id written as null.
  out = "x";
  encode_result(out, {}, R"({"a":[1]})");
  EXPECT_EQ(out, R"(x{"jsonrpc":"2.0","id":null,"result":{"a":[1]}})");
}

// One parser, message after message (its padded copy keeps the padding for a text as long as
// the last): every message parses as it does on a fresh parser, through parse and parse_fresh.
TEST(McpJsonRpc, ReusedParserMatchesFreshOne) {
  const std::string_view texts[] = {
      R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
      R"({"jsonrpc":"2.0","id":2,"method":"pong"})",  // as long as the last
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"x","arguments":{}}})",
      R"({"jsonrpc":"2.0","id":1,"method":"ping"})",  // shorter than the last
      "123456",
      "12",
      "1234",
      R"({"jsonrpc":"2.0","id":12,"method":"ping")",  // truncated
      R"({"jsonrpc":"2.0","id":12,"method":"ping"})",
      R"({"jsonrpc":"2.0","id":12,"method":"ping"}x)",
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])",
  };
  Parser reused;
  for (bool fresh_api : {false, true}) {
    for (std::string_view text : texts) {
      SCOPED_TRACE(text);
      Parser fresh;
      Parsed want = parse(fresh, text);
      Parsed got;
      got.ok = fresh_api ? reused.parse_fresh(text, got.msg, got.failure)
                         : reused.parse(text, got.msg, got.failure);
      ASSERT_EQ(got.ok, want.ok);
      EXPECT_EQ(got.failure.code, want.failure.code);
      EXPECT_EQ(got.failure.reason, want.failure.reason);
      EXPECT_EQ(got.msg.kind, want.msg.kind);
      EXPECT_EQ(got.msg.id, want.msg.id);
      EXPECT_EQ(got.msg.method, want.msg.method);
      EXPECT_EQ(got.msg.params, want.msg.params);
      EXPECT_EQ(got.msg.known.name, want.msg.known.name);
    }
  }
}

// encode_result_over replaces what the buffer held, longer or shorter, with encode_result's text.
TEST(McpJsonRpc, EncodeResultOverReplacesTheBuffer) {
  std::string want;
  encode_result(want, "4", R"({"a":1})");
  EXPECT_EQ(want, R"({"jsonrpc":"2.0","id":4,"result":{"a":1}})");
  for (std::string before : {std::string(), std::string(200, 'x'), std::string(3, 'y'), want}) {
    encode_result_over(before, "4", R"({"a":1})");
    EXPECT_EQ(before, want);
  }
  std::string null_id = "old";
  encode_result_over(null_id, {}, "{}");
  EXPECT_EQ(null_id, R"({"jsonrpc":"2.0","id":null,"result":{}})");
}

TEST(McpJsonRpc, AppendStringEscapesOnlyWhatJsonNeeds) {
  std::string out = "k:";
  append_string(out, "add");
  EXPECT_EQ(out, R"(k:"add")");
  append_string(out, "");
  EXPECT_EQ(out, R"(k:"add""")");
  out.clear();
  append_string(out, "caf\xc3\xa9 \"q\" a\\b\n\x01");
  EXPECT_EQ(out, "\"caf\xc3\xa9 \\\"q\\\" a\\\\b\\n\\u0001\"");
}

}  // namespace
}  // namespace fa::mcp
