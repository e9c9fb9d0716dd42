// TlsContext: the OpenSSL server contexts built from a TlsConfig — one SSL_CTX per certificate
// (the first is the default, the others are chosen by SNI), each with the same settings: TLS 1.2
// and 1.3, OpenSSL's default ciphers, ALPN, session tickets and a session cache, optional client
// certificate verification, renegotiation refused, kTLS requested. Immutable once built: a
// certificate reload builds a new one, and connections keep the context they started with.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tls/tls_config.h"

namespace fa::tls {

// A configuration OpenSSL refused (unreadable file, wrong password, key not matching the
// certificate); what() carries OpenSSL's reason.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TlsContext : public std::enable_shared_from_this<TlsContext> {
 public:
  // Throws TlsError.
  static std::shared_ptr<TlsContext> create(const TlsConfig& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new server-side SSL on the accepted socket (the fd stays the caller's). nullptr on OOM.
  SSL* new_ssl(int fd) const;
  const TlsConfig& config() const { return config_; }

 private:
  explicit TlsContext(TlsConfig config) : config_(std::move(config)) {}
  void configure(SSL_CTX* ctx, const Certificate& cert);
  static int on_servername(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                     const unsigned char* in, unsigned int inlen, void* arg);

  TlsConfig config_;
  std::vector<SSL_CTX*> ctxs_;  // [0] is the default certificate
};

// OpenSSL's queued errors as one line (and clears the queue).
std::string openssl_errors();

}  // namespace fa::tls
