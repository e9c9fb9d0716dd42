// JSON-RPC id correlation for the MCP client (src/mcp/client/correlator.h): ids, answers and
// errors resolved to their futures, late answers, abandoning with notifications/cancelled,
// failing everything when the connection goes.
#include "mcp/client/correlator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "mcp/json_gen.h"
#include "mcp/jsonrpc.h"

using fa::future;
using fa::mcp::client::Correlator;
using fa::mcp::client::Response;

TEST(ClientCorrelator, EncodesAndResolvesOutOfOrder) {
  Correlator c;
  std::string out;
  uint64_t id = 0;
  future<Response> a = c.request(out, "tools/list", "", id);
  EXPECT_EQ(id, 1u);
  EXPECT_EQ(out, R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  out.clear();
  future<Response> b = c.request(out, "tools/call", R"({"name":"x"})", id);
  EXPECT_EQ(id, 2u);
  EXPECT_EQ(out, R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}})");
  EXPECT_EQ(c.pending(), 2u);
  EXPECT_FALSE(a.available());

  EXPECT_EQ(c.on_message(R"({"jsonrpc":"2.0","id":2,"error":{"code":-32602,)"
                         R"("message":"Unknown tool: \"x\"","data":{"name":"x"}}})"),
            Correlator::Incoming::kAnswered);
  ASSERT_TRUE(b.available());
  Response rb = b.get();
  EXPECT_FALSE(rb.ok);
  EXPECT_EQ(rb.code, -32602);
  EXPECT_EQ(rb.message, "Unknown tool: \"x\"");
  EXPECT_EQ(rb.data, R"({"name":"x"})");

  EXPECT_EQ(c.on_message(R"({"jsonrpc":"2.0","id":1,"result":{"tools":[]}})"),
            Correlator::Incoming::kAnswered);
  Response ra = a.get();
  EXPECT_TRUE(ra.ok);
  EXPECT_EQ(ra.result, R"({"tools":[]})");
  EXPECT_EQ(c.pending(), 0u);
}

TEST(ClientCorrelator, ClassifiesOtherMessages) {
  Correlator c;
  EXPECT_EQ(c.on_message(R"({"jsonrpc":"2.0","id":9,"result":{}})"),
            Correlator::Incoming::kUnknownId);
  EXPECT_EQ(c.on_message(R"({"jsonrpc":"2.0","id":"s1","result":{}})"),
            Correlator::Incoming::kUnknownId);
  EXPECT_EQ(c.on_message(R"({"jsonrpc":"2.0","id":"s1","method":"ping"})"),
            Correlator::Incoming::kRequest);
  EXPECT_EQ(c.message().method, "ping");
  EXPECT_EQ(c.on_message(R"({"jsonrpc":"2.0","method":"notifications/message",)"
                         R"("params":{"level":"info","data":"hi"}})"),
            Correlator::Incoming::kNotification);
  EXPECT_EQ(c.message().method, "notifications/message");
  EXPECT_EQ(c.on_message("not json"), Correlator::Incoming::kInvalid);
  EXPECT_EQ(c.on_message("[]"), Correlator::Incoming::kInvalid);
}

TEST(ClientCorrelator, AbandonSendsCancelledAndIgnoresLateAnswer) {
  Correlator c;
  std::string out;
  uint64_t id = 0;
  future<Response> a = c.request(out, "tools/call", R"({"name":"hang"})", id);
  out.clear();
  EXPECT_TRUE(c.abandon(id, out, fa::mcp::client::kRequestTimeout, "timed out"));
  EXPECT_EQ(out, R"({"jsonrpc":"2.0","method":"notifications/cancelled",)"
                 R"("params":{"requestId":1,"reason":"timed out"}})");
  Response r = a.get();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, -32001);
  out.clear();
  EXPECT_FALSE(c.abandon(id, out, -32001, "again"));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(c.on_message(R"({"jsonrpc":"2.0","id":1,"result":{}})"),
            Correlator::Incoming::kUnknownId);
}

TEST(ClientCorrelator, FailAll) {
  Correlator c;
  std::string out;
  uint64_t id = 0;
  future<Response> a = c.request(out, "ping", "", id);
  future<Response> b = c.request(out, "ping", "", id);
  c.fail_all("the server exited");
  for (auto* f : {&a, &b}) {
    Response r = f->get();
    EXPECT_EQ(r.code, fa::mcp::client::kConnectionClosed);
    EXPECT_EQ(r.message, "the server exited");
  }
  EXPECT_EQ(c.pending(), 0u);
}

TEST(ClientCorrelator, NotificationEncoding) {
  std::string out;
  Correlator::notification(out, "notifications/initialized", "");
  EXPECT_EQ(out, R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
}

TEST(ClientCorrelator, ScanResponseReadsPlainAnswersOnly) {
  uint64_t id = 0;
  std::string_view result;
  using fa::mcp::client::scan_response;
  ASSERT_TRUE(scan_response(R"({"jsonrpc":"2.0","id":42,"result":{"a":[1,"}"]}})", id, result));
  EXPECT_EQ(id, 42u);
  EXPECT_EQ(result, R"({"a":[1,"}"]})");
  // Any member order, whitespace, members JSON-RPC does not define, scalar results.
  ASSERT_TRUE(scan_response(
      " {\"result\" : 7 ,\n\"x\":{\"id\":3},\"id\":9,\"jsonrpc\":\"2.0\"}\r\n", id, result));
  EXPECT_EQ(id, 9u);
  EXPECT_EQ(result, "7");
  ASSERT_TRUE(
      scan_response("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"caf\xc3\xa9\"}", id, result));
  EXPECT_EQ(result, "\"caf\xc3\xa9\"");
  // Everything else goes to the parser: errors, requests, notifications, ids that are not
  // positive integers, escaped or repeated names, missing members, trailing bytes, cut-short
  // or non-UTF-8 text.
  for (std::string_view other :
       {R"({"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"x"}})",
        R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
        R"({"jsonrpc":"2.0","method":"notifications/progress","params":{}})",
        R"({"jsonrpc":"2.0","id":"1","result":{}})",
        R"({"jsonrpc":"2.0","id":0,"result":{}})",
        R"({"jsonrpc":"2.0","id":01,"result":{}})",
        R"({"jsonrpc":"2.0","id":1.5,"result":{}})",
        R"({"jsonrpc":"2.0","id":-1,"result":{}})",
        R"({"jsonrpc":"2.0","\u0069d":1,"result":{}})",
        R"({"jsonrpc":"2.0","id":1,"result":{},"result":{}})",
        R"({"jsonrpc":"2.0","id":1,"id":2,"result":{}})",
        R"({"jsonrpc":"1.0","id":1,"result":{}})",
        R"({"id":1,"result":{}})",
        R"({"jsonrpc":"2.0","result":{}})",
        R"({"jsonrpc":"2.0","id":1})",
        R"({"jsonrpc":"2.0","id":1,"result":{}} x)",
        R"({"jsonrpc":"2.0","id":1,"result":{"a":[1,2}})",
        R"({"jsonrpc":"2.0","id":1,"result":)",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"\xff\"}",
        R"([{"jsonrpc":"2.0"}])",
        ""})
    EXPECT_FALSE(scan_response(other, id, result)) << other;
}

TEST(ClientCorrelator, ScanResponseAgreesWithTheParser) {
  // Generated answers (json_gen.h), some cut or with a byte changed: whatever scan_response
  // reads, the full parser reads the same way; every intact one is read by the scan.
  fa::mcp::testing::JsonGen gen(42);
  fa::mcp::Parser parser;
  std::mt19937 rng(7);
  int scanned = 0;
  for (int i = 0; i < 4000; ++i) {
    gen.spaced(i % 3 == 0);
    std::vector<std::string> members = {R"("jsonrpc":"2.0")",
                                        R"("id":)" + std::to_string(1 + gen.below(1000000)),
                                        R"("result":)" + gen.value(3)};
    if (i % 5 == 0) members.push_back(R"("x":)" + gen.value(2));
    std::shuffle(members.begin(), members.end(), rng);
    std::string text = "{" + gen.ws();
    for (size_t k = 0; k < members.size(); ++k) text += (k ? "," + gen.ws() : "") + members[k];
    text += gen.ws() + "}";
    const bool intact = i % 4 != 3;
    if (!intact) {
      static const char kBytes[] = {'"', '\\', '{', '}', '[', ']', ',', ':', 'x', '\xff'};
      size_t at = static_cast<size_t>(gen.below(static_cast<int>(text.size())));
      if (gen.below(2))
        text.resize(at);
      else
        text[at] = kBytes[gen.below(static_cast<int>(sizeof kBytes))];
    }
    uint64_t id = 0;
    std::string_view result;
    const bool fast = fa::mcp::client::scan_response(text, id, result);
    fa::mcp::Message m;
    fa::mcp::ParseFailure failure;
    const bool parsed = parser.parse(text, m, failure);
    if (intact) EXPECT_TRUE(fast) << text;
    if (!fast) continue;
    ++scanned;
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(m.kind, fa::mcp::MessageKind::kResponse) << text;
    EXPECT_EQ(m.id, std::to_string(id)) << text;
    EXPECT_EQ(m.result, result) << text;
  }
  EXPECT_GT(scanned, 3000);
}

TEST(ClientCorrelator, ManyPendingAnsweredInAnyOrder) {
  Correlator c;
  std::string out;
  std::vector<future<Response>> answers;
  std::vector<uint64_t> ids;
  for (int i = 0; i < 200; ++i) {
    uint64_t id = 0;
    answers.push_back(c.request(out, "tools/call", "", id));
    ids.push_back(id);
  }
  std::shuffle(ids.begin(), ids.end(), std::mt19937(3));
  for (size_t k = 0; k < ids.size(); ++k) {
    const uint64_t id = ids[k];
    EXPECT_TRUE(c.pending(id));
    // Even: a plain answer (scan_response); odd: an error answer (the parser).
    const std::string reply = k % 2 ? R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                                          R"(,"error":{"code":-5,"message":"m"}})"
                                    : R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                                          R"(,"result":{"n":)" + std::to_string(id) + "}}";
    EXPECT_EQ(c.on_message(reply), Correlator::Incoming::kAnswered) << reply;
    EXPECT_FALSE(c.pending(id));
    EXPECT_EQ(c.pending(), ids.size() - k - 1);
    EXPECT_EQ(c.on_message(reply), Correlator::Incoming::kUnknownId);  // answered already
  }
  for (size_t k = 0; k < ids.size(); ++k) {
    const uint64_t id = ids[k];
    Response r = answers[id - 1].get();
    EXPECT_EQ(r.ok, k % 2 == 0);
    if (k % 2 == 0)
      EXPECT_EQ(r.result, R"({"n":)" + std::to_string(id) + "}");
    else
      EXPECT_EQ(r.code, -5);
  }
}
