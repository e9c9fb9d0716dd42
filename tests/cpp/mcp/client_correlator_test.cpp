// JSON-RPC id correlation for the MCP client (src/mcp/client/correlator.h): ids, answers and
// errors resolved to their futures, late answers, abandoning with notifications/cancelled,
// failing everything when the connection goes.
#include "mcp/client/correlator.h"

#include <gtest/gtest.h>

#include <string>

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
