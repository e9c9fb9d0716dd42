// TlsTransport implementation.
#include "tls/tls_transport.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "tls/record_sniff.h"

namespace fa::tls {

namespace {
// Scratch space for gathering small writes into one record. OpenSSL copies the record out
// before SSL_write_ex returns (encrypted into its own buffer when the send would block), so
// one buffer per thread serves every connection.
std::array<char, TlsTransport::kRecordMax>& gather_buffer() {
  thread_local std::array<char, TlsTransport::kRecordMax> buffer;
  return buffer;
}

// SSL_get_error needs an empty error queue before the call it judges (SSL_get_error(3)).
// ERR_clear_error walks every slot of the queue, a cost per record on the hot path; peeking
// first makes the usual case (the queue is already empty) cheap.
void clear_error_queue() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}
}  // namespace

TlsTransport::TlsTransport(int fd, std::shared_ptr<const TlsContext> context)
    : fd_(fd), ssl_(context->new_ssl(fd)) {
  context_ = std::move(context);
  if (!ssl_) state_ = State::kFailed;
}

TlsTransport::TlsTransport(int fd, std::shared_ptr<const TlsClientContext> context,
                           const std::string& host)
    : fd_(fd), ssl_(context->new_ssl(fd, host)), state_(State::kHandshake), client_(true) {
  context_ = std::move(context);
  if (!ssl_) {
    state_ = State::kFailed;
    error_ = "cannot set up TLS for host '" + host + "'";
  }
}

TlsTransport::~TlsTransport() {
  SSL_free(ssl_);
}

ssize_t TlsTransport::fail(int err) {
  state_ = State::kFailed;
  want_write_ = false;
  ERR_clear_error();
  errno = err;
  return -1;
}

// Peeks at the first byte. Not a handshake record: a plain-HTTP client on the TLS port. Read
// what it sent (so closing does not reset the connection under the answer), answer 400 with a
// hint, and end the connection.
ssize_t TlsTransport::sniff() {
  unsigned char first = 0;
  ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK);
  if (n <= 0) return n;  // EOF, or EAGAIN/error with errno
  if (starts_like_tls(first)) {
    state_ = State::kHandshake;
    errno = EAGAIN;
    return -1;
  }
  char sink[16 * 1024];
  for (int i = 0; i < 4 && ::recv(fd_, sink, sizeof sink, 0) > 0; ++i) {
  }
  (void)::send(fd_, kPlainHttpAnswer.data(), kPlainHttpAnswer.size(), MSG_NOSIGNAL);
  ::shutdown(fd_, SHUT_WR);
  FA_LOG(LogLevel::kInfo, "plain HTTP on the TLS port: answered 400");
  return fail(ECONNRESET);
}

// Advances the handshake; on return state_ is kOpen, or kHandshake with errno = EAGAIN, or
// kFailed.
void TlsTransport::handshake() {
  want_write_ = false;
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    state_ = State::kOpen;
    return;
  }
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
      errno = EAGAIN;
      return;
    case SSL_ERROR_WANT_WRITE:
      want_write_ = true;
      errno = EAGAIN;
      return;
    default:
      error_ = client_ ? handshake_failure(ssl_) : openssl_errors();
      FA_LOG(LogLevel::kInfo, "TLS handshake failed: %s", error_.c_str());
      fail(ECONNRESET);
  }
}

ssize_t TlsTransport::read(char* buf, size_t len) {
  if (state_ == State::kSniff) {
    ssize_t n = sniff();
    if (state_ != State::kHandshake) return n;
  }
  if (state_ == State::kHandshake) {
    handshake();
    if (state_ != State::kOpen) return -1;  // errno set by handshake()
  }
  if (state_ == State::kFailed) {
    errno = ECONNRESET;
    return -1;
  }
  // The server context reads ahead (one recv() takes whatever has arrived, not a record header
  // and then its body), so records already received are drained here while they fit; what
  // does not fit is reported by has_buffered_input(), since epoll cannot see it.
  want_write_ = false;
  clear_error_queue();
  size_t got = 0;
  if (SSL_read_ex(ssl_, buf, len, &got) == 1) {
    size_t more = 0;
    while (got < len && SSL_has_pending(ssl_) == 1 &&
           SSL_read_ex(ssl_, buf + got, len - got, &more) == 1) {
      got += more;
    }
    // The loop ended on a partial record (WANT_READ) or an error: the next read reports it.
    return static_cast<ssize_t>(got);
  }
  switch (SSL_get_error(ssl_, 0)) {
    case SSL_ERROR_ZERO_RETURN:  // close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF)
      return 0;
    case SSL_ERROR_WANT_READ:  // a partial record, or a post-handshake message
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      want_write_ = true;
      errno = EAGAIN;
      return -1;
    default:
      FA_LOG(LogLevel::kDebug, "TLS read failed: %s", openssl_errors().c_str());
      return fail(ECONNRESET);
  }
}

// Writes [p, p + len) as whole records (partial-write mode): > 0 bytes written, 0 when the
// first record would block (EAGAIN), -1 when the connection failed.
ssize_t TlsTransport::write_records(const char* p, size_t len) {
  size_t done = 0;
  while (done < len) {
    clear_error_queue();
    size_t wrote = 0;
    if (SSL_write_ex(ssl_, p + done, len - done, &wrote) == 1) {
      done += wrote;
      continue;
    }
    int err = SSL_get_error(ssl_, 0);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) break;
    FA_LOG(LogLevel::kDebug, "TLS write failed: %s", openssl_errors().c_str());
    if (done > 0) break;
    fail(EPIPE);
    return -1;
  }
  return static_cast<ssize_t>(done);
}

ssize_t TlsTransport::writev(const iovec* iov, int count) {
  // A client speaks first (its ClientHello): the first write starts the handshake, and later
  // ones advance it while it is blocked on sending.
  if (client_ && state_ == State::kHandshake) handshake();
  if (state_ != State::kOpen) {
    errno = state_ == State::kFailed ? EPIPE : EAGAIN;
    return -1;
  }
  // A blocked write is re-offered by the write queue from the same first byte with at least as
  // many bytes, as OpenSSL requires (SSL_write(3), "WARNINGS"); so is every split made here,
  // because it depends only on those bytes.
  //
  // Small pieces (a response head, a short body) are gathered into one record: one
  // SSL_write_ex per iovec would cost a record header, an AEAD tag and a send() each. The
  // first record carries min(total, 16 KiB) bytes (RFC 8446 §5.1: at most 2^14 per record).
  ssize_t total = 0;
  int i = 0;
  size_t skip = 0;  // bytes of iov[i] already sent
  if (count > 1 && iov[0].iov_len < kRecordMax) {
    size_t first = 0;
    for (int k = 0; k < count && first < kRecordMax; ++k) {
      size_t take = std::min(iov[k].iov_len, kRecordMax - first);
      if (take == 0) continue;  // an empty iovec may have a null base
      std::memcpy(gather_buffer().data() + first, iov[k].iov_base, take);
      first += take;
    }
    ssize_t n = write_records(gather_buffer().data(), first);
    if (n <= 0) {
      if (n == 0) errno = EAGAIN;
      return -1;
    }
    if (static_cast<size_t>(n) < first) return n;  // a smaller record size was negotiated
    total = n;
    for (size_t left = first; left > 0;) {  // step past the gathered bytes
      size_t here = iov[i].iov_len - skip;
      if (left < here) {
        skip += left;
        break;
      }
      left -= here;
      skip = 0;
      ++i;
    }
  }
  for (; i < count; ++i, skip = 0) {
    const char* p = static_cast<const char*>(iov[i].iov_base) + skip;
    size_t len = iov[i].iov_len - skip;
    ssize_t n = write_records(p, len);
    if (n < 0) return total > 0 ? total : -1;
    total += n;
    if (static_cast<size_t>(n) < len) break;  // would block
  }
  if (total == 0) {
    errno = EAGAIN;
    return -1;
  }
  return total;
}

void TlsTransport::shutdown_write() {
  if (state_ == State::kOpen) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // queues our close_notify (RFC 8446 §6.1); we do not wait for theirs
    ERR_clear_error();
  }
  ::shutdown(fd_, SHUT_WR);
}

std::string_view TlsTransport::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  if (ssl_) SSL_get0_alpn_selected(ssl_, &p, &n);
  return p ? std::string_view(reinterpret_cast<const char*>(p), n) : std::string_view{};
}

bool TlsTransport::ktls_send() const {
  return ssl_ && state_ == State::kOpen && BIO_get_ktls_send(SSL_get_wbio(ssl_));
}

}  // namespace fa::tls
