// TlsClientContext implementation: trust store, verification, SNI, ALPN.
#include "tls/tls_client.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/alpn.h"

namespace fa::tls {

namespace {
bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}
}  // namespace

std::shared_ptr<TlsClientContext> TlsClientContext::create(const TlsClientConfig& config) {
  ERR_clear_error();
  std::shared_ptr<TlsClientContext> tc(new TlsClientContext(config));
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) throw TlsError("SSL_CTX_new: " + openssl_errors());
  tc->ctx_ = ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A server closing without close_notify is an ordinary EOF: HTTP framing tells truncation
  // apart (RFC 9112 §9.8), as on the server side.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (config.verify) {
    if (!config.cafile.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, config.cafile.c_str(), nullptr) != 1)
        throw TlsError("cannot load CA certificates " + config.cafile + ": " + openssl_errors());
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      throw TlsError("cannot load the system trust store: " + openssl_errors());
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!config.alpn.empty()) {
    std::string wire = alpn_wire(config.alpn);
    // SSL_CTX_set_alpn_protos returns 0 on success (unlike most of OpenSSL).
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0)
      throw TlsError("bad ALPN list: " + openssl_errors());
  }
  return tc;
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(ctx_);
}

SSL* TlsClientContext::new_ssl(int fd, const std::string& host) const {
  SSL* ssl = SSL_new(ctx_);
  if (!ssl) return nullptr;
  bool ok = SSL_set_fd(ssl, fd) == 1;  // a socket BIO without BIO_CLOSE: the fd stays ours
  bool ip = is_ip_literal(host);
  // SNI carries DNS names only (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not
  // permitted").
  if (ok && !ip) ok = SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
  if (ok && config_.verify) {
    if (ip)
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    else
      ok = SSL_set1_host(ssl, host.c_str()) == 1;
  }
  if (!ok) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_connect_state(ssl);
  return ssl;
}

std::string handshake_failure(SSL* ssl) {
  // With verification off the result may be non-OK without having failed the handshake.
  long v =
      ssl && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (v != X509_V_OK) {
    ERR_clear_error();
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(v);
  }
  return openssl_errors();
}

}  // namespace fa::tls
