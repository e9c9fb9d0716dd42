// TlsTransport and TlsContext against an OpenSSL client on a socket pair: handshake driven by
// reads, ALPN exposed, SNI choosing the certificate, a plain-HTTP first byte answered 400, a
// large write through the WriteQueue (partial writes re-offered), configuration errors.
// Certificates come from the openssl command at test time.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/write_queue.h"
#include "tls/tls_context.h"
#include "tls/tls_transport.h"

namespace {

namespace fs = std::filesystem;
using fa::tls::TlsConfig;
using fa::tls::TlsContext;
using fa::tls::TlsTransport;

// A CA, "localhost" and "other.test" certificates in a temporary directory (once per run).
const fs::path& pki() {
  static fs::path dir = [] {
    char tmpl[] = "/tmp/fa-tls-test-XXXXXX";
    fs::path d = mkdtemp(tmpl);
    std::string cmd = "cd " + d.string() +
                      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                      "-keyout ca.key -out ca.pem -days 2 -subj /CN=TestCA";
    for (std::string name : {"localhost", "other.test"}) {
      cmd += " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name +
             ".key -out " + name + ".csr -subj /CN=" + name +
             " && printf 'subjectAltName=DNS:" + name + "\\n' > " + name +
             ".ext && openssl x509 -req -in " + name +
             ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile " + name +
             ".ext -out " + name + ".pem";
    }
    cmd = "(" + cmd + ") >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed: " + cmd);
    return d;
  }();
  return dir;
}

TlsConfig config(std::vector<std::string> names) {
  TlsConfig c;
  for (auto& n : names)
    c.certificates.push_back(
        {(pki() / (n + ".pem")).string(), (pki() / (n + ".key")).string(), ""});
  return c;
}

struct Client {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = nullptr;
  Client(int fd, const char* sni, const std::string& alpn_wire = {}) {
    SSL_CTX_load_verify_locations(ctx, (pki() / "ca.pem").c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (sni) SSL_set_tlsext_host_name(ssl, sni);
    if (!alpn_wire.empty())
      SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn_wire.data()),
                          static_cast<unsigned>(alpn_wire.size()));
    SSL_set_connect_state(ssl);
  }
  ~Client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  std::string peer_cn() const {
    X509* cert = SSL_get1_peer_certificate(ssl);
    char buf[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
    X509_free(cert);
    return buf;
  }
};

struct Pair {
  int server = -1, client = -1;
  Pair() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
      throw std::runtime_error("socketpair");
    server = fds[0];
    client = fds[1];
  }
  ~Pair() {
    ::close(server);
    ::close(client);
  }
};

// Drives both ends until the handshake is done on both (bounded).
bool handshake(Client& c, TlsTransport& t) {
  char buf[64];
  bool client_done = false;
  for (int i = 0; i < 200 && !(client_done && t.established()); ++i) {
    if (!client_done) client_done = SSL_do_handshake(c.ssl) == 1;
    ssize_t n = t.read(buf, sizeof buf);
    if (n < 0 && errno != EAGAIN) return false;
  }
  return client_done && t.established();
}

TEST(TlsTransport, HandshakeThenDataBothWaysAndAlpn) {
  TlsConfig cfg = config({"localhost"});
  cfg.alpn = {"h2", "http/1.1"};
  auto ctx = TlsContext::create(cfg);
  Pair p;
  TlsTransport t(p.server, ctx);
  EXPECT_FALSE(t.established());
  EXPECT_TRUE(t.secure());
  iovec early{const_cast<char*>("x"), 1};
  EXPECT_EQ(t.writev(&early, 1), -1);  // nothing goes out before the handshake
  EXPECT_EQ(errno, EAGAIN);
  Client c(p.client, "localhost", std::string("\x08http/1.1\x02h2", 12));
  ASSERT_TRUE(handshake(c, t));
  EXPECT_EQ(t.alpn(), "h2");  // server preference (RFC 7301 §3.2)
  EXPECT_EQ(SSL_get_verify_result(c.ssl), X509_V_OK);

  ASSERT_EQ(SSL_write(c.ssl, "hello", 5), 5);
  char buf[16 * 1024];
  ssize_t n = t.read(buf, sizeof buf);
  ASSERT_EQ(n, 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  n = t.read(buf, sizeof buf);
  EXPECT_EQ(n, -1);
  EXPECT_EQ(errno, EAGAIN);

  iovec iov[2] = {{const_cast<char*>("HTTP/1.1 "), 9}, {const_cast<char*>("200 OK"), 6}};
  EXPECT_EQ(t.writev(iov, 2), 15);
  std::string got;
  for (int i = 0; i < 100 && got.size() < 15; ++i) {
    int r = SSL_read(c.ssl, buf, sizeof buf);
    if (r > 0) got.append(buf, static_cast<size_t>(r));
  }
  EXPECT_EQ(got, "HTTP/1.1 200 OK");

  t.shutdown_write();  // close_notify: the client sees an orderly end
  int r = SSL_read(c.ssl, buf, sizeof buf);
  EXPECT_EQ(r, 0);
  EXPECT_EQ(SSL_get_error(c.ssl, r), SSL_ERROR_ZERO_RETURN);
}

// A response head and body in two iovecs leave as one record (one AEAD tag, one send), not
// one record per iovec: the client's first SSL_read returns both.
TEST(TlsTransport, SmallIovecsGoOutAsOneRecord) {
  auto ctx = TlsContext::create(config({"localhost"}));
  Pair p;
  TlsTransport t(p.server, ctx);
  Client c(p.client, "localhost");
  ASSERT_TRUE(handshake(c, t));
  iovec iov[3] = {{const_cast<char*>("HTTP/1.1 200 OK\r\n\r\n"), 19},
                  {nullptr, 0},
                  {const_cast<char*>("hello"), 5}};
  EXPECT_EQ(t.writev(iov, 3), 24);
  char buf[64];
  int r = 0;
  for (int i = 0; i < 100 && r <= 0; ++i) r = SSL_read(c.ssl, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(r > 0 ? r : 0)), "HTTP/1.1 200 OK\r\n\r\nhello");
}

// Records the server read ahead are all returned: several small ones in one read, and what
// does not fit the caller's buffer is reported (has_buffered_input), since epoll cannot see
// it once the socket is drained.
TEST(TlsTransport, ReadAheadRecordsAreDrainedOrReported) {
  auto ctx = TlsContext::create(config({"localhost"}));
  Pair p;
  TlsTransport t(p.server, ctx);
  Client c(p.client, "localhost");
  ASSERT_TRUE(handshake(c, t));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(SSL_write(c.ssl, "abcd", 4), 4);  // three records
  char buf[16 * 1024];
  EXPECT_EQ(t.read(buf, sizeof buf), 12);
  EXPECT_EQ(std::string(buf, 12), "abcdabcdabcd");
  EXPECT_FALSE(t.has_buffered_input());

  std::string big(6000, 'x');
  for (int i = 0; i < 2; ++i) ASSERT_EQ(SSL_write(c.ssl, big.data(), 6000), 6000);
  size_t got = 0;
  for (int i = 0; i < 100 && got < 4000; ++i) {  // a small buffer: most stays buffered
    ssize_t n = t.read(buf, 4000);
    if (n > 0) got += static_cast<size_t>(n);
  }
  EXPECT_EQ(got, 4000u);
  EXPECT_TRUE(t.has_buffered_input());
  char sink[1];
  EXPECT_EQ(::recv(p.server, sink, 1, MSG_DONTWAIT), -1);  // nothing left on the socket
  while (t.has_buffered_input()) {
    ssize_t n = t.read(buf, sizeof buf);
    ASSERT_GT(n, 0);
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(got, 12000u);
}

TEST(TlsTransport, NoAlpnWhenTheClientOffersNone) {
  auto ctx = TlsContext::create(config({"localhost"}));
  Pair p;
  TlsTransport t(p.server, ctx);
  Client c(p.client, "localhost");
  ASSERT_TRUE(handshake(c, t));
  EXPECT_EQ(t.alpn(), "");
}

TEST(TlsTransport, SniChoosesTheMatchingCertificate) {
  auto ctx = TlsContext::create(config({"localhost", "other.test"}));
  for (auto [sni, cn] : {std::pair<const char*, const char*>{"other.test", "other.test"},
                         {"localhost", "localhost"},
                         {"unknown.test", "localhost"},  // no match: the default
                         {nullptr, "localhost"}}) {
    Pair p;
    TlsTransport t(p.server, ctx);
    Client c(p.client, sni);
    SSL_set_verify(c.ssl, SSL_VERIFY_NONE, nullptr);
    ASSERT_TRUE(handshake(c, t)) << (sni ? sni : "(none)");
    EXPECT_EQ(c.peer_cn(), cn) << (sni ? sni : "(none)");
  }
}

TEST(TlsTransport, PlainHttpGets400WithAHint) {
  auto ctx = TlsContext::create(config({"localhost"}));
  Pair p;
  TlsTransport t(p.server, ctx);
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(p.client, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  char buf[512];
  EXPECT_EQ(t.read(buf, sizeof buf), -1);
  EXPECT_EQ(errno, ECONNRESET);  // the connection ends after the answer
  ssize_t n = ::recv(p.client, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  std::string answer(buf, static_cast<size_t>(n));
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_NE(answer.find("This port speaks HTTPS"), std::string::npos);
}

TEST(TlsTransport, LargeWriteThroughTheWriteQueueWithBackpressure) {
  auto ctx = TlsContext::create(config({"localhost"}));
  Pair p;
  TlsTransport t(p.server, ctx);
  Client c(p.client, "localhost");
  ASSERT_TRUE(handshake(c, t));
  std::string body(4 * 1024 * 1024, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 131 % 251);
  fa::WriteQueue q;
  q.append(std::string_view("head:"));
  q.append(std::string(body));
  std::string got;
  char buf[16 * 1024];
  int blocked = 0;
  for (int i = 0; i < 100000 && got.size() < body.size() + 5; ++i) {
    size_t before = q.size();
    ASSERT_GE(q.flush(t), 0);
    if (q.size() == before && before > 0) ++blocked;  // the socket buffer is full
    int r = SSL_read(c.ssl, buf, sizeof buf);
    if (r > 0) got.append(buf, static_cast<size_t>(r));
  }
  EXPECT_GT(blocked, 0);  // partial writes and re-offers happened
  ASSERT_EQ(got.size(), body.size() + 5);
  EXPECT_EQ(got.substr(0, 5), "head:");
  EXPECT_TRUE(got.compare(5, std::string::npos, body) == 0);
}

TEST(TlsTransport, AGarbageHandshakeFailsTheConnectionOnly) {
  auto ctx = TlsContext::create(config({"localhost"}));
  Pair p;
  TlsTransport t(p.server, ctx);
  std::string junk("\x16\x03\x01\x00\x05hello", 10);
  junk.append(64, '\x01');
  ::send(p.client, junk.data(), junk.size(), 0);
  char buf[64];
  EXPECT_EQ(t.read(buf, sizeof buf), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_FALSE(t.established());
}

TEST(TlsContext, ErrorsNameTheFileAndTheReason) {
  TlsConfig mismatch = config({"localhost"});
  mismatch.certificates[0].keyfile = (pki() / "other.test.key").string();
  try {
    TlsContext::create(mismatch);
    FAIL() << "a key that does not match its certificate was accepted";
  } catch (const fa::tls::TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }
  TlsConfig missing = config({"localhost"});
  missing.certificates[0].certfile = "/nonexistent.pem";
  EXPECT_THROW(TlsContext::create(missing), fa::tls::TlsError);
  TlsConfig required = config({"localhost"});
  required.cert_reqs = fa::tls::CertReqs::kRequired;  // without a CA bundle
  EXPECT_THROW(TlsContext::create(required), fa::tls::TlsError);
  EXPECT_THROW(TlsContext::create(TlsConfig{}), fa::tls::TlsError);
}

}  // namespace
