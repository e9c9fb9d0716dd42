// TlsContext implementation: certificates and keys, SNI and ALPN callbacks, verification.
#include "tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <strings.h>

#include <span>

#include "tls/alpn.h"

namespace fa::tls {

namespace {
// Resumption with client certificates needs a session id context (SSL_CTX_set_session_id_context).
constexpr unsigned char kSessionIdContext[] = "fasterapi";

struct BioCloser {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

[[noreturn]] void fail(const std::string& what) {
  throw TlsError(what + ": " + openssl_errors());
}
}  // namespace

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::shared_ptr<TlsContext> TlsContext::create(const TlsConfig& config) {
  if (config.certificates.empty()) throw TlsError("TLS needs a certificate (ssl_certfile)");
  ERR_clear_error();
  std::shared_ptr<TlsContext> tc(new TlsContext(config));
  for (const auto& cert : config.certificates) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) fail("SSL_CTX_new");
    tc->ctxs_.push_back(ctx);
    tc->configure(ctx, cert);
  }
  return tc;
}

TlsContext::~TlsContext() {
  for (SSL_CTX* c : ctxs_) SSL_CTX_free(c);
}

void TlsContext::configure(SSL_CTX* ctx, const Certificate& cert) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Renegotiation refused (TLS 1.2 has it; 1.3 has none). A peer closing without close_notify
  // is an ordinary EOF here: HTTP framing tells truncation apart (RFC 9112 §9.8).
  uint64_t opts =
      SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE;
#ifdef SSL_OP_ENABLE_KTLS
  if (config_.ktls) opts |= SSL_OP_ENABLE_KTLS;
#endif
  SSL_CTX_set_options(ctx, opts);
  // The write queue re-offers a blocked write from its (possibly reallocated, longer) buffer,
  // and takes partial progress record by record.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // One recv() per burst of records instead of two per record (header, then body); the
  // connection drains what was read ahead (TlsTransport::read, has_buffered_input).
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);

  if (SSL_CTX_use_certificate_chain_file(ctx, cert.certfile.c_str()) != 1)
    fail("cannot load certificate chain " + cert.certfile);
  const std::string& keyfile = cert.keyfile.empty() ? cert.certfile : cert.keyfile;
  std::unique_ptr<BIO, BioCloser> bio(BIO_new_file(keyfile.c_str(), "r"));
  if (!bio) fail("cannot open key file " + keyfile);
  // With no callback, OpenSSL takes the last argument as the passphrase.
  std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, nullptr, const_cast<char*>(cert.password.c_str())));
  if (!key)
    fail("cannot read private key " + keyfile +
         (cert.password.empty() ? "" : " (wrong password?)"));
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    fail("private key " + keyfile + " does not match certificate " + cert.certfile);
  for (const std::string& name : cert.server_names) {
    X509* x = SSL_CTX_get0_certificate(ctx);
    if (name.empty() || !x || X509_check_host(x, name.data(), name.size(), 0, nullptr) != 1)
      throw TlsError("certificate " + cert.certfile + " is not valid for server name '" + name +
                     "'");
  }

  if (!config_.ca_certs.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, config_.ca_certs.c_str(), nullptr) != 1)
      fail("cannot load CA certificates " + config_.ca_certs);
    // The CA names sent in CertificateRequest, so clients pick a matching certificate.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config_.ca_certs.c_str()))
      SSL_CTX_set_client_CA_list(ctx, names);
  }
  switch (config_.cert_reqs) {
    case CertReqs::kNone:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case CertReqs::kOptional:
      if (config_.ca_certs.empty()) throw TlsError("ssl_cert_reqs needs ssl_ca_certs");
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case CertReqs::kRequired:
      if (config_.ca_certs.empty()) throw TlsError("ssl_cert_reqs needs ssl_ca_certs");
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  SSL_CTX_set_alpn_select_cb(ctx, &TlsContext::on_alpn, this);
  SSL_CTX_set_tlsext_servername_callback(ctx, &TlsContext::on_servername);
  SSL_CTX_set_tlsext_servername_arg(ctx, this);
}

SSL* TlsContext::new_ssl(int fd) const {
  SSL* ssl = SSL_new(ctxs_.front());
  if (!ssl) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {  // a socket BIO without BIO_CLOSE: the fd stays ours
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

// SNI (RFC 6066 §3): switch to the first extra certificate valid for the requested name; no
// name or no match keeps the default certificate.
int TlsContext::on_servername(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name || self->ctxs_.size() < 2) return SSL_TLSEXT_ERR_OK;
  for (size_t i = 1; i < self->ctxs_.size(); ++i) {
    const auto& names = self->config_.certificates[i].server_names;
    bool match = false;
    if (names.empty()) {
      X509* cert = SSL_CTX_get0_certificate(self->ctxs_[i]);
      match = cert && X509_check_host(cert, name, 0, 0, nullptr) == 1;
    } else {
      for (const std::string& n : names) match |= strcasecmp(n.c_str(), name) == 0;
    }
    if (match) {
      SSL_set_SSL_CTX(ssl, self->ctxs_[i]);
      break;
    }
  }
  return SSL_TLSEXT_ERR_OK;
}

// ALPN by server preference. No overlap: continue without ALPN (HTTP/1.1) rather than the
// optional no_application_protocol alert (RFC 7301 §3.2), as common servers do.
int TlsContext::on_alpn(SSL*, const unsigned char** out, unsigned char* outlen,
                        const unsigned char* in, unsigned int inlen, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  auto chosen = select_alpn(std::span<const uint8_t>(in, inlen), self->config_.alpn);
  if (!chosen) return SSL_TLSEXT_ERR_NOACK;
  *out = reinterpret_cast<const unsigned char*>(chosen->data());
  *outlen = static_cast<unsigned char>(chosen->size());
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace fa::tls
