// TlsInfo: what a handler may learn about its TLS connection — the fields of the ASGI TLS
// extension (asgiref "TLS" extension: server_cert, client_cert_chain, client_cert_name,
// client_cert_error, tls_version, cipher_suite). Taken once per connection after the handshake.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

namespace fa::tls {

struct TlsInfo {
  int version = 0;                             // as on the wire: 0x0303 TLS 1.2, 0x0304 TLS 1.3
  int cipher_suite = 0;                        // the IANA 16-bit identifier (RFC 8446 §B.4)
  std::string server_cert;                     // PEM of the certificate we presented
  std::vector<std::string> client_cert_chain;  // PEM, the client's own certificate first
  std::string client_cert_name;   // its subject, RFC 4514; empty: no client certificate
  std::string client_cert_error;  // why it did not verify (ssl_cert_reqs=1); empty: it did
};

// The description of an established connection; nullptr when `ssl` is null.
std::shared_ptr<const TlsInfo> describe(SSL* ssl);

}  // namespace fa::tls
