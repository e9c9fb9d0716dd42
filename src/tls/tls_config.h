// TlsConfig: what a TLS listener needs — certificates (several for SNI), client-certificate
// verification, handshake timeout, ALPN. Field names follow uvicorn's --ssl-* flags.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace fa::tls {

// One certificate chain and its key (PEM). An empty keyfile means the key is in certfile.
struct Certificate {
  std::string certfile;
  std::string keyfile;
  std::string password;  // for an encrypted key; empty = none
  // SNI names that choose this certificate (RFC 6066 §3), compared without case; the
  // certificate must be valid for each (checked when the context is built). Empty: any name
  // the certificate itself is valid for.
  std::vector<std::string> server_names;
};

// Client-certificate verification, as Python's ssl.CERT_NONE/OPTIONAL/REQUIRED (uvicorn's
// --ssl-cert-reqs takes these ints).
enum class CertReqs : int { kNone = 0, kOptional = 1, kRequired = 2 };

struct TlsConfig {
  // The first certificate is the default; the others are chosen by SNI (RFC 6066 §3) when the
  // requested name matches them. Empty = TLS off.
  std::vector<Certificate> certificates;
  std::string ca_certs;  // PEM bundle for verifying client certificates
  CertReqs cert_reqs = CertReqs::kNone;
  std::chrono::milliseconds handshake_timeout{10000};  // accept → handshake done
  // ALPN protocols we offer, in preference order (RFC 7301): HTTP/2 (src/h2, chosen by
  // H1Protocol when "h2" was negotiated) before HTTP/1.1.
  std::vector<std::string> alpn{"h2", "http/1.1"};
  bool ktls = true;  // ask OpenSSL for kernel TLS offload (used only where the kernel has it)

  bool enabled() const { return !certificates.empty(); }
};

}  // namespace fa::tls
