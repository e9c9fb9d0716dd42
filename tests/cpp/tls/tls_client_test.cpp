// TlsTransport in the client role (TlsClientContext) against TlsTransport in the server role on a
// socket pair: the client's first write starts the handshake, ALPN "http/1.1", data both ways,
// and verification: an unknown CA, a wrong host name, an IP address, verification off.
// Certificates come from the openssl command at test time.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tls/tls_client.h"
#include "tls/tls_context.h"
#include "tls/tls_transport.h"

namespace {

namespace fs = std::filesystem;
using fa::tls::TlsClientConfig;
using fa::tls::TlsClientContext;
using fa::tls::TlsConfig;
using fa::tls::TlsContext;
using fa::tls::TlsError;
using fa::tls::TlsTransport;

// A CA and a server certificate for DNS:localhost and IP:127.0.0.1 (once per run).
const fs::path& pki() {
  static fs::path dir = [] {
    char tmpl[] = "/tmp/fa-tls-client-test-XXXXXX";
    fs::path d = mkdtemp(tmpl);
    std::string cmd =
        "cd " + d.string() +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-keyout ca.key -out ca.pem -days 2 -subj /CN=TestCA"
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
        "-out server.csr -subj /CN=localhost"
        " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext"
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile server.ext -out server.pem";
    cmd = "(" + cmd + ") >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed: " + cmd);
    return d;
  }();
  return dir;
}

std::shared_ptr<TlsContext> server_context() {
  TlsConfig c;
  c.certificates.push_back(
      {(pki() / "server.pem").string(), (pki() / "server.key").string(), "", {}});
  c.alpn = {"h2", "http/1.1"};
  return TlsContext::create(c);
}

std::shared_ptr<TlsClientContext> client_context(bool verify, std::string cafile) {
  TlsClientConfig c;
  c.verify = verify;
  c.cafile = std::move(cafile);
  return TlsClientContext::create(c);
}

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

// Runs both ends' handshakes as an event loop would: the client's first write, then reads on
// both sides (bounded). True when both are established.
bool handshake(TlsTransport& client, TlsTransport& server) {
  char buf[64];
  iovec nothing{const_cast<char*>("x"), 0};
  if (client.writev(&nothing, 1) < 0 && errno != EAGAIN) return false;
  for (int i = 0; i < 200 && !(client.established() && server.established()); ++i) {
    if (server.read(buf, sizeof buf) < 0 && errno != EAGAIN) return false;
    if (client.read(buf, sizeof buf) < 0 && errno != EAGAIN) return false;
  }
  return client.established() && server.established();
}

std::string read_all(TlsTransport& t, size_t want) {
  std::string got;
  char buf[16 * 1024];
  for (int i = 0; i < 100 && got.size() < want; ++i) {
    ssize_t n = t.read(buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST(TlsClient, HandshakeAlpnAndDataBothWays) {
  Pair p;
  TlsTransport server(p.server, server_context());
  TlsTransport client(p.client, client_context(true, (pki() / "ca.pem").string()), "localhost");
  EXPECT_FALSE(client.established());
  EXPECT_TRUE(client.secure());
  ASSERT_TRUE(handshake(client, server)) << client.error();
  EXPECT_TRUE(client.error().empty());
  EXPECT_EQ(client.alpn(), "http/1.1");  // the only protocol the client offers
  EXPECT_EQ(server.alpn(), "http/1.1");
  EXPECT_STREQ(SSL_get_servername(server.ssl(), TLSEXT_NAMETYPE_host_name), "localhost");
  EXPECT_EQ(SSL_get_verify_result(client.ssl()), X509_V_OK);

  iovec req[2] = {{const_cast<char*>("POST /mcp "), 10}, {const_cast<char*>("HTTP/1.1"), 8}};
  ASSERT_EQ(client.writev(req, 2), 18);
  EXPECT_EQ(read_all(server, 18), "POST /mcp HTTP/1.1");
  iovec resp{const_cast<char*>("HTTP/1.1 200 OK"), 15};
  ASSERT_EQ(server.writev(&resp, 1), 15);
  EXPECT_EQ(read_all(client, 15), "HTTP/1.1 200 OK");

  server.shutdown_write();  // close_notify: the client sees an orderly end
  char buf[64];
  EXPECT_EQ(client.read(buf, sizeof buf), 0);
}

TEST(TlsClient, WritesBeforeTheHandshakeWaitThenGoOut) {
  Pair p;
  TlsTransport server(p.server, server_context());
  TlsTransport client(p.client, client_context(true, (pki() / "ca.pem").string()), "localhost");
  iovec early{const_cast<char*>("early"), 5};
  EXPECT_EQ(client.writev(&early, 1), -1);  // starts the handshake; nothing sent yet
  EXPECT_EQ(errno, EAGAIN);
  ASSERT_TRUE(handshake(client, server)) << client.error();
  EXPECT_EQ(client.writev(&early, 1), 5);
  EXPECT_EQ(read_all(server, 5), "early");
}

TEST(TlsClient, UnknownCaFailsVerification) {
  Pair p;
  TlsTransport server(p.server, server_context());
  // The system trust store does not know the test CA.
  TlsTransport client(p.client, client_context(true, ""), "localhost");
  EXPECT_FALSE(handshake(client, server));
  EXPECT_NE(client.error().find("certificate verify failed"), std::string::npos) << client.error();
  iovec data{const_cast<char*>("x"), 1};
  EXPECT_EQ(client.writev(&data, 1), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST(TlsClient, WrongHostNameFailsVerification) {
  Pair p;
  TlsTransport server(p.server, server_context());
  TlsTransport client(p.client, client_context(true, (pki() / "ca.pem").string()), "example.com");
  EXPECT_FALSE(handshake(client, server));
  EXPECT_NE(client.error().find("hostname mismatch"), std::string::npos) << client.error();
}

TEST(TlsClient, IpAddressesAreCheckedAgainstIpSubjectAltNames) {
  {
    Pair p;
    TlsTransport server(p.server, server_context());
    TlsTransport client(p.client, client_context(true, (pki() / "ca.pem").string()), "127.0.0.1");
    ASSERT_TRUE(handshake(client, server)) << client.error();
    // RFC 6066 §3: no SNI for an IP literal.
    EXPECT_EQ(SSL_get_servername(server.ssl(), TLSEXT_NAMETYPE_host_name), nullptr);
  }
  Pair p;
  TlsTransport server(p.server, server_context());
  TlsTransport client(p.client, client_context(true, (pki() / "ca.pem").string()), "127.0.0.2");
  EXPECT_FALSE(handshake(client, server));
  EXPECT_NE(client.error().find("IP address mismatch"), std::string::npos) << client.error();
}

TEST(TlsClient, VerificationOffAcceptsAnUnknownCaAndName) {
  Pair p;
  TlsTransport server(p.server, server_context());
  TlsTransport client(p.client, client_context(false, ""), "example.com");
  ASSERT_TRUE(handshake(client, server)) << client.error();
  iovec data{const_cast<char*>("hi"), 2};
  ASSERT_EQ(client.writev(&data, 1), 2);
  EXPECT_EQ(read_all(server, 2), "hi");
}

TEST(TlsClient, AMissingCaFileIsAClearError) {
  try {
    client_context(true, "/nonexistent/ca.pem");
    FAIL() << "no error";
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos);
  }
}

}  // namespace
