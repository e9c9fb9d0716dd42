// TlsTransport: the Transport for a TLS connection (OpenSSL on the non-blocking socket). The
// handshake is driven by the connection's reads; until it is done, reads report EAGAIN and
// writes wait. A first byte that is not a TLS handshake record gets a plain-HTTP 400.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string_view>

#include "core/transport.h"
#include "tls/tls_context.h"

namespace fa::tls {

class TlsTransport final : public Transport {
 public:
  // Keeps `context` alive: a reload replaces the server's context, not this connection's.
  TlsTransport(int fd, std::shared_ptr<const TlsContext> context);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  ssize_t read(char* buf, size_t len) override;
  ssize_t writev(const iovec* iov, int count) override;
  void shutdown_write() override;
  bool established() const override { return state_ == State::kOpen; }
  bool wants_write() const override { return want_write_; }
  std::string_view alpn() const override;
  bool secure() const override { return true; }

  // Whether the kernel encrypts our sends (kTLS engaged on this connection).
  bool ktls_send() const;
  SSL* ssl() const { return ssl_; }

 private:
  enum class State { kSniff, kHandshake, kOpen, kFailed };
  ssize_t sniff();
  void handshake();
  ssize_t fail(int err);

  int fd_;
  std::shared_ptr<const TlsContext> context_;
  SSL* ssl_;
  State state_ = State::kSniff;
  bool want_write_ = false;
};

}  // namespace fa::tls
