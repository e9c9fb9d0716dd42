// TlsClientContext: the OpenSSL client context for outgoing connections (the MCP client's
// https:// upstreams). TLS 1.2 and 1.3, OpenSSL's default ciphers, ALPN "http/1.1", and by
// default the server's certificate checked against the system trust store (OpenSSL's default
// paths) or a given CA file, with its name checked against the host we connect to (RFC 9110
// §4.3.4, RFC 6125). Connections use TlsTransport in its client role.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/tls_context.h"

namespace fa::tls {

struct TlsClientConfig {
  // Check the server's certificate chain and name. Off only when the user asks (verify=False).
  bool verify = true;
  // PEM CA certificates to trust instead of the system store; empty: the system store.
  std::string cafile;
  std::vector<std::string> alpn = {"http/1.1"};
};

class TlsClientContext {
 public:
  // Throws TlsError (an unreadable CA file).
  static std::shared_ptr<TlsClientContext> create(const TlsClientConfig& config);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  // A new client-side SSL on the connected socket (the fd stays the caller's): SNI set to
  // `host` unless it is an IP literal (RFC 6066 §3), and with verification on, the certificate
  // must be valid for `host` (a DNS name, or an IP address in its subjectAltName). nullptr on
  // OOM or an unusable host.
  SSL* new_ssl(int fd, const std::string& host) const;
  const TlsClientConfig& config() const { return config_; }

 private:
  explicit TlsClientContext(TlsClientConfig config) : config_(std::move(config)) {}
  TlsClientConfig config_;
  SSL_CTX* ctx_ = nullptr;
};

// Why a client handshake failed, from the SSL after the failure: the certificate check's
// reason when that is what failed, else OpenSSL's queued errors.
std::string handshake_failure(SSL* ssl);

}  // namespace fa::tls
