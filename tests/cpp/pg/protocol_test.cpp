// Tests for Protocol, FrontendWriter and backend parsers on byte fixtures.
#include "pg/protocol.h"

#include <gtest/gtest.h>

#include "pg/wire.h"

namespace fa::pg {
namespace {

std::string msg(char type, std::string_view body) {
  std::string m(1, type);
  append_be<int32_t>(m, static_cast<int32_t>(body.size() + 4));
  m.append(body);
  return m;
}

std::string be32(int32_t v) { std::string s; append_be<int32_t>(s, v); return s; }
std::string be16(int16_t v) { std::string s; append_be<int16_t>(s, v); return s; }

std::string auth(int32_t code, std::string_view extra = {}) { return msg('R', be32(code) + std::string(extra)); }

Protocol started(std::string password = "pw") {
  Protocol p(ConnectParams{"alice", std::move(password), "db", {}});
  p.start();
  return p;
}

}  // namespace

TEST(Protocol, StartupMessageBytes) {
  Protocol p = started();
  const std::string& o = p.out();
  ASSERT_GE(o.size(), 8u);
  EXPECT_EQ(read_be<int32_t>(o.data()), static_cast<int32_t>(o.size()));
  EXPECT_EQ(read_be<int32_t>(o.data() + 4), kProtocolVersion3);
  EXPECT_NE(o.find(std::string("user\0alice\0", 11)), std::string::npos);
  EXPECT_NE(o.find(std::string("database\0db\0", 12)), std::string::npos);
  EXPECT_EQ(o.back(), '\0');
}

TEST(Protocol, TrustStartupThenReady) {
  Protocol p = started();
  p.out().clear();
  p.feed(auth(0) + msg('S', std::string("server_version\0" "15.2\0", 20)) +
         msg('K', be32(42) + be32(7)) + msg('Z', "I"));
  EXPECT_EQ(p.next().kind, EventKind::kParameterStatus);
  EXPECT_EQ(p.next().kind, EventKind::kBackendKeyData);
  EXPECT_EQ(p.next().kind, EventKind::kReady);
  EXPECT_EQ(p.next().kind, EventKind::kNeedMore);
  EXPECT_TRUE(p.authenticated());
  EXPECT_EQ(p.backend_pid(), 42);
  EXPECT_EQ(p.secret_key(), 7);
  EXPECT_EQ(p.server_params().at("server_version"), "15.2");
  EXPECT_TRUE(p.out().empty());
}

TEST(Protocol, CleartextPasswordIsSent) {
  Protocol p = started("s3cret");
  p.out().clear();
  p.feed(auth(3));
  EXPECT_EQ(p.next().kind, EventKind::kNeedMore);
  EXPECT_EQ(p.out(), msg('p', std::string("s3cret\0", 7)));
}

TEST(Protocol, Md5PasswordIsSent) {
  Protocol p = started("secret");
  p.out().clear();
  p.feed(auth(5, "\x01\x02\x03\x04"));
  EXPECT_EQ(p.next().kind, EventKind::kNeedMore);
  ASSERT_EQ(p.out().size(), 5u + 36u);
  EXPECT_EQ(p.out().substr(5, 3), "md5");
}

TEST(Protocol, SaslWithoutScramFails) {
  Protocol p = started();
  p.feed(auth(10, std::string("SCRAM-SHA-256-PLUS\0\0", 20)));
  EXPECT_EQ(p.next().kind, EventKind::kProtocolError);
  EXPECT_NE(p.error().find("SCRAM-SHA-256"), std::string::npos);
}

TEST(Protocol, SaslStartsScram) {
  Protocol p = started();
  p.out().clear();
  p.feed(auth(10, std::string("SCRAM-SHA-256\0\0", 15)));
  EXPECT_EQ(p.next().kind, EventKind::kNeedMore);
  EXPECT_NE(p.out().find("SCRAM-SHA-256"), std::string::npos);
  EXPECT_NE(p.out().find("n,,n=,r="), std::string::npos);
}

TEST(Protocol, UnsupportedAuthFailsClearly) {
  Protocol p = started();
  p.feed(auth(7));  // GSSAPI
  EXPECT_EQ(p.next().kind, EventKind::kProtocolError);
  EXPECT_NE(p.error().find("unsupported authentication"), std::string::npos);
}

TEST(Protocol, StartupErrorIsSurfaced) {
  Protocol p = started();
  p.feed(msg('E', std::string("SFATAL\0C28P01\0Mpassword authentication failed\0\0", 48)));
  Event e = p.next();
  ASSERT_EQ(e.kind, EventKind::kError);
  std::vector<std::pair<char, std::string_view>> f;
  ASSERT_TRUE(parse_error_fields(e.body, f));
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[1].first, 'C');
  EXPECT_EQ(f[1].second, "28P01");
  EXPECT_EQ(f[2].second, "password authentication failed");
}

TEST(Protocol, MessagesSplitAcrossFeeds) {
  Protocol p = started();
  p.feed(auth(0) + msg('Z', "I"));
  ASSERT_EQ(p.next().kind, EventKind::kReady);
  std::string row = msg('D', be16(2) + be32(3) + "abc" + be32(-1));
  std::string all = row + msg('C', std::string("SELECT 1\0", 9)) + msg('Z', "T");
  for (char c : all) {
    p.feed(std::string_view(&c, 1));
    Event e = p.next();
    if (e.kind == EventKind::kDataRow) {
      DataRowReader r(e.body);
      std::string_view v;
      bool null = false;
      ASSERT_TRUE(r.next(v, null));
      EXPECT_EQ(v, "abc");
      ASSERT_TRUE(r.next(v, null));
      EXPECT_TRUE(null);
      EXPECT_FALSE(r.next(v, null));
      EXPECT_TRUE(r.ok());
    } else if (e.kind == EventKind::kCommandComplete) {
      EXPECT_EQ(e.body, "SELECT 1");
      EXPECT_EQ(command_rowcount(e.body), 1);
    }
  }
  EXPECT_EQ(p.tx_status(), 'T');
}

TEST(Protocol, NegotiateProtocolVersionIsAccepted) {
  Protocol p = started();
  p.feed(msg('v', be32(0) + be32(0)) + auth(0) + msg('Z', "I"));
  EXPECT_EQ(p.next().kind, EventKind::kReady);
}

TEST(Protocol, MalformedLengthBreaksConnection) {
  Protocol p = started();
  p.feed(std::string("Z\0\0\0\x02", 5));
  EXPECT_EQ(p.next().kind, EventKind::kProtocolError);
  EXPECT_EQ(p.next().kind, EventKind::kProtocolError);
}

TEST(Backend, RowDescription) {
  std::string body = be16(1) + std::string("id\0", 3) + be32(16384) + be16(1) + be32(23) + be16(4) +
                     be32(-1) + be16(1);
  std::vector<FieldDesc> f;
  ASSERT_TRUE(parse_row_description(body, f));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].name, "id");
  EXPECT_EQ(f[0].type_oid, 23u);
  EXPECT_EQ(f[0].format, 1);
  EXPECT_FALSE(parse_row_description(body.substr(0, body.size() - 1), f));
}

TEST(Backend, TruncatedDataRowIsNotOk) {
  std::string body = be16(1) + be32(10) + "abc";  // says 10 bytes, has 3
  DataRowReader r(body);
  std::string_view v;
  bool null = false;
  EXPECT_FALSE(r.next(v, null));
  EXPECT_FALSE(r.ok());
}

TEST(Backend, CommandRowcount) {
  EXPECT_EQ(command_rowcount("INSERT 0 5"), 5);
  EXPECT_EQ(command_rowcount("UPDATE 12"), 12);
  EXPECT_EQ(command_rowcount("BEGIN"), -1);
}

TEST(Frontend, BindEncodesParamsInPlace) {
  FrontendWriter w;
  int16_t fmt[] = {1};
  w.begin_bind("", "s1", fmt, 2);
  size_t pos = w.begin_param();
  append_be<int32_t>(w.out(), 7);
  w.end_param(pos);
  w.bind_null();
  int16_t rf[] = {1};
  w.end_bind(rf);
  std::string expect_body = std::string("\0s1\0", 4) + be16(1) + be16(1) + be16(2) + be32(4) + be32(7) +
                            be32(-1) + be16(1) + be16(1);
  EXPECT_EQ(w.out(), msg('B', expect_body));
}

TEST(Frontend, CancelRequestBytes) {
  std::string c = cancel_request(5, 9);
  EXPECT_EQ(c, be32(16) + be32(kCancelRequestCode) + be32(5) + be32(9));
}

}  // namespace fa::pg

namespace fa::pg {

// Mutated and truncated server streams must end in events, kNeedMore or kProtocolError: never a
// crash or an over-read (run under -DFA_SANITIZE=ON to check the latter).
TEST(Protocol, SurvivesMutatedStreams) {
  std::string valid = msg('R', be32(0)) + msg('S', std::string("a\0b\0", 4)) + msg('K', be32(1) + be32(2)) +
                      msg('Z', "I") + msg('1', "") + msg('t', be16(1) + be32(23)) +
                      msg('T', be16(1) + std::string("id\0", 3) + be32(0) + be16(0) + be32(23) + be16(4) +
                                   be32(-1) + be16(1)) +
                      msg('2', "") + msg('D', be16(1) + be32(4) + be32(7)) +
                      msg('C', std::string("SELECT 1\0", 9)) +
                      msg('E', std::string("SERROR\0C42601\0Mbad\0\0", 21)) +
                      msg('A', be32(9) + std::string("ch\0pl\0", 6)) + msg('Z', "T");
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  auto rnd = [&seed]() { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed; };
  for (int round = 0; round < 5000; ++round) {
    std::string s = valid;
    int flips = 1 + static_cast<int>(rnd() % 4);
    for (int k = 0; k < flips; ++k) s[rnd() % s.size()] = static_cast<char>(rnd());
    s.resize(rnd() % (s.size() + 1));
    Protocol p(ConnectParams{"u", "pw", "db", {}});
    p.start();
    size_t pos = 0;
    int events = 0;
    while (pos < s.size()) {
      size_t n = 1 + rnd() % 64;
      p.feed(std::string_view(s).substr(pos, n));
      pos += n;
      for (Event e = p.next(); e.kind != EventKind::kNeedMore && e.kind != EventKind::kProtocolError;
           e = p.next()) {
        ++events;
        if (e.kind == EventKind::kDataRow) {
          DataRowReader r(e.body);
          std::string_view v;
          bool null = false;
          while (r.next(v, null)) {
          }
        } else if (e.kind == EventKind::kRowDescription) {
          std::vector<FieldDesc> f;
          parse_row_description(e.body, f);
        } else if (e.kind == EventKind::kError) {
          std::vector<std::pair<char, std::string_view>> f;
          parse_error_fields(e.body, f);
        } else if (e.kind == EventKind::kNotification) {
          Notification n2;
          parse_notification(e.body, n2);
        }
      }
    }
    EXPECT_LE(events, 64);
  }
}

}  // namespace fa::pg
