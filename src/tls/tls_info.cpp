// TlsInfo from an established SSL (OpenSSL 3).
#include "tls/tls_info.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

namespace fa::tls {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string pem(X509* cert) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  return bio_text(bio.get());
}

std::string rfc4514_subject(X509* cert) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
    return {};
  return bio_text(bio.get());
}

}  // namespace

std::shared_ptr<const TlsInfo> describe(SSL* ssl) {
  if (!ssl) return nullptr;
  auto info = std::make_shared<TlsInfo>();
  info->version = SSL_version(ssl);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl))
    info->cipher_suite = SSL_CIPHER_get_protocol_id(c);
  if (X509* ours = SSL_get_certificate(ssl)) info->server_cert = pem(ours);
  std::unique_ptr<X509, X509Free> leaf(SSL_get1_peer_certificate(ssl));
  if (leaf) {
    info->client_cert_chain.push_back(pem(leaf.get()));
    // On a server the peer chain leaves out the client's own certificate.
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        X509* x = sk_X509_value(chain, i);
        if (X509_cmp(x, leaf.get()) != 0) info->client_cert_chain.push_back(pem(x));
      }
    }
    info->client_cert_name = rfc4514_subject(leaf.get());
    long verdict = SSL_get_verify_result(ssl);
    if (verdict != X509_V_OK) info->client_cert_error = X509_verify_cert_error_string(verdict);
  }
  return info;
}

}  // namespace fa::tls
