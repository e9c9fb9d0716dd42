// h2c upgrade request parsing (src/h2/h2c_upgrade.h): base64url, the SETTINGS payload check and
// which HTTP/1.1 heads may switch (RFC 7540 §3.2, §3.2.1), on heads from the real parser.
#include "h2/h2c_upgrade.h"

#include <gtest/gtest.h>

#include <string>

using namespace fa::h2;
using fa::http::RequestHead;
using fa::http::RequestParser;

namespace {

// "AAMAAABkAAQAoAAAAAIAAAAA": curl's HTTP2-Settings (MAX_CONCURRENT_STREAMS 100,
// INITIAL_WINDOW_SIZE 10 MiB, ENABLE_PUSH 0).
constexpr const char* kCurlSettings = "AAMAAABkAAQAoAAAAAIAAAAA";

struct Parsed {
  std::string bytes;
  RequestHead head;
  bool ok = false;
};

void parse(Parsed& p, std::string text) {
  p.bytes = std::move(text);
  RequestParser parser;
  p.ok = parser.parse_request(p.bytes, 0, p.head) > 0;
}

std::string upgrade_request(std::string extra = {}, std::string settings = kCurlSettings) {
  return "GET /users/1?x=2 HTTP/1.1\r\nHost: example.org:8000\r\nUser-Agent: curl/8\r\n"
         "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " +
         settings + "\r\n" + extra + "\r\n";
}

}  // namespace

TEST(Base64Url, DecodesWithAndWithoutPadding) {
  std::string out;
  ASSERT_TRUE(decode_base64url("aGVsbG8", out));
  EXPECT_EQ(out, "hello");
  ASSERT_TRUE(decode_base64url("aGVsbG8=", out));
  EXPECT_EQ(out, "hello");
  ASSERT_TRUE(decode_base64url("", out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(decode_base64url("-_8", out));  // the url alphabet: 62, 63
  EXPECT_EQ(out, std::string("\xfb\xff", 2));
}

TEST(Base64Url, RefusesOtherAlphabetsAndBadLengths) {
  std::string out;
  EXPECT_FALSE(decode_base64url("ab+/", out));   // standard base64's 62/63
  EXPECT_FALSE(decode_base64url("abcde", out));  // 4n+1 characters
  EXPECT_FALSE(decode_base64url("ab cd", out));
}

TEST(SettingsPayload, ChecksLengthAndRanges) {
  std::string p;
  ASSERT_TRUE(decode_base64url(kCurlSettings, p));
  EXPECT_TRUE(valid_settings_payload(p));
  EXPECT_TRUE(valid_settings_payload(""));
  EXPECT_FALSE(valid_settings_payload(p.substr(0, 5)));
  EXPECT_FALSE(valid_settings_payload(std::string("\0\x02\0\0\0\x02", 6)));         // ENABLE_PUSH 2
  EXPECT_FALSE(valid_settings_payload(std::string("\0\x04\x80\0\0\0", 6)));         // window 2^31
  EXPECT_FALSE(valid_settings_payload(std::string("\0\x05\0\0\x10\0", 6)));         // frame 4096
  EXPECT_TRUE(valid_settings_payload(std::string("\x12\x34\xff\xff\xff\xff", 6)));  // unknown
}

TEST(H2cUpgrade, TakesCurlsRequest) {
  Parsed p;
  parse(p, upgrade_request());
  ASSERT_TRUE(p.ok);
  H2cRequest req;
  ASSERT_TRUE(parse_h2c_upgrade(p.head, req));
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/users/1?x=2");
  EXPECT_EQ(req.authority, "example.org:8000");
  EXPECT_EQ(req.settings.size(), 18u);
  ASSERT_EQ(req.fields.size(), 1u);  // Host, Connection, Upgrade, HTTP2-Settings are not fields
  EXPECT_EQ(req.fields[0].first, "user-agent");
  EXPECT_EQ(req.fields[0].second, "curl/8");
}

TEST(H2cUpgrade, EmptySettingsAndTokenCase) {
  Parsed p;
  parse(p,
        "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, upgrade,http2-settings\r\n"
        "Upgrade: websocket, H2C\r\nHTTP2-Settings: \r\n\r\n");
  ASSERT_TRUE(p.ok);
  H2cRequest req;
  EXPECT_TRUE(parse_h2c_upgrade(p.head, req));
  EXPECT_TRUE(req.settings.empty());
}

TEST(H2cUpgrade, RefusedCases) {
  H2cRequest req;
  Parsed p;
  // No HTTP2-Settings connection option (§3.2.1).
  parse(p,
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
        "HTTP2-Settings: AAMAAABk\r\n\r\n");
  EXPECT_FALSE(parse_h2c_upgrade(p.head, req));
  // Two HTTP2-Settings fields.
  parse(p, upgrade_request("HTTP2-Settings: AAMAAABk\r\n"));
  EXPECT_FALSE(parse_h2c_upgrade(p.head, req));
  // None.
  parse(p,
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        "Upgrade: h2c\r\n\r\n");
  EXPECT_FALSE(parse_h2c_upgrade(p.head, req));
  // A payload that is not base64url, or not whole settings.
  parse(p, upgrade_request({}, "AAMA+ABk"));
  EXPECT_FALSE(parse_h2c_upgrade(p.head, req));
  parse(p, upgrade_request({}, "AAMAAA"));
  EXPECT_FALSE(parse_h2c_upgrade(p.head, req));
  // A body: answered over HTTP/1.1.
  parse(p, upgrade_request("Content-Length: 3\r\n"));
  EXPECT_FALSE(parse_h2c_upgrade(p.head, req));
  // WebSocket, not h2c.
  parse(p,
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        "Upgrade: websocket\r\nHTTP2-Settings: AAMAAABk\r\n\r\n");
  EXPECT_FALSE(parse_h2c_upgrade(p.head, req));
  // No Connection: upgrade at all.
  parse(p,
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: HTTP2-Settings\r\nUpgrade: h2c\r\n"
        "HTTP2-Settings: AAMAAABk\r\n\r\n");
  EXPECT_FALSE(parse_h2c_upgrade(p.head, req));
}
