// TlsTransport: the Transport for a TLS connection (OpenSSL on the non-blocking socket), in the
// server role (an accepted connection, TlsContext) or the client role (an outgoing one,
// TlsClientContext). The handshake is driven by the connection's reads — and, for a client,
// which speaks first, by its writes; until it is done, reads report EAGAIN and writes wait.
// Server role: a first byte that is not a TLS handshake record gets a plain-HTTP 400.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/transport.h"
#include "tls/tls_client.h"
#include "tls/tls_context.h"

namespace fa::tls {

class TlsTransport final : public Transport {
 public:
  static constexpr size_t kRecordMax = 16 * 1024;  // plaintext bytes per record, RFC 8446 §5.1

  // Keeps `context` alive: a reload replaces the server's context, not this connection's.
  TlsTransport(int fd, std::shared_ptr<const TlsContext> context);
  // Client role on a connected (or connecting) socket to `host` (SNI, certificate name).
  TlsTransport(int fd, std::shared_ptr<const TlsClientContext> context, const std::string& host);
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
  bool has_buffered_input() const override { return ssl_ && SSL_has_pending(ssl_) == 1; }

  // Whether the kernel encrypts our sends (kTLS engaged on this connection).
  bool ktls_send() const;
  SSL* ssl() const { return ssl_; }
  // Why the handshake failed (e.g. "certificate verify failed: hostname mismatch"); empty
  // while it has not.
  const std::string& error() const { return error_; }

 private:
  enum class State { kSniff, kHandshake, kOpen, kFailed };
  ssize_t sniff();
  void handshake();
  ssize_t fail(int err);
  ssize_t write_records(const char* p, size_t len);

  int fd_;
  std::shared_ptr<const void> context_;  // the TlsContext or TlsClientContext ssl_ came from
  SSL* ssl_;
  State state_ = State::kSniff;
  bool client_ = false;
  bool want_write_ = false;
  std::string error_;
};

}  // namespace fa::tls
