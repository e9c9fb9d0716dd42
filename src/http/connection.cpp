// Connection implementation: non-blocking reads into the input buffer, writev flushes,
// epoll interest kept in sync with what the connection wants, graceful (lingering) close.
#include "http/connection.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>

#include "core/log.h"
#include "http/server.h"
#include "tls/tls_info.h"
#include "tls/tls_transport.h"

namespace fa::http {

Connection::Connection(Server& server, int fd, const sockaddr_storage& peer,
                       std::unique_ptr<Transport> transport)
    : server_(server),
      fd_(fd),
      peer_addr_(peer),
      transport_(transport ? std::move(transport) : std::make_unique<PlainTransport>(fd)) {
  // Plain TCP on the io_uring backend moves its bytes with completion ops (connection_uring.cpp).
  if (dynamic_cast<PlainTransport*>(transport_.get())) ring_ = server.loop().uring();
  ring_loop_ = &server.loop();
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

EventLoop& Connection::loop() { return server_.loop(); }
TimePoint Connection::loop_now() { return server_.loop().now(); }

const Peer& Connection::peer() {
  if (!peer_resolved_) {
    peer_resolved_ = true;
    char buf[INET6_ADDRSTRLEN] = {};
    if (peer_addr_.ss_family == AF_UNSPEC && fd_ >= 0) {
      // Multishot accept (io_uring) reports no address: ask when someone wants it.
      socklen_t len = sizeof peer_addr_;
      getpeername(fd_, reinterpret_cast<sockaddr*>(&peer_addr_), &len);
    }
    if (peer_addr_.ss_family == AF_INET) {
      auto* a = reinterpret_cast<const sockaddr_in*>(&peer_addr_);
      inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
      peer_.port = ntohs(a->sin_port);
    } else if (peer_addr_.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<const sockaddr_in6*>(&peer_addr_);
      inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
      peer_.port = ntohs(a->sin6_port);
    }
    peer_.host = buf;
    peer_.tls = transport_->secure();
  }
  if (peer_.tls && !peer_.tls_info && transport_->established()) {
    if (auto* t = dynamic_cast<tls::TlsTransport*>(transport_.get()))
      peer_.tls_info = tls::describe(t->ssl());  // once per connection, for handlers (ASGI TLS)
  }
  return peer_;
}

void Connection::start(std::unique_ptr<Protocol> protocol) {
  protocol_ = std::move(protocol);
  if (ring_mode()) {
    ring_start();
    return;
  }
  interest_ = EPOLLIN | EPOLLRDHUP;
  if (!server_.loop().add(fd_, interest_, this)) close_now();
}

void Connection::switch_protocol(std::unique_ptr<Protocol> protocol) {
  // The old protocol is usually the caller (H1Protocol::upgrade): free it after this iteration.
  std::shared_ptr<Protocol> old = std::move(protocol_);
  if (old) server_.loop().defer([old] {});
  protocol_ = std::move(protocol);
  if (!in_.empty()) protocol_->on_data(*this);
}

bool Connection::over_high_water() const {
  return queued() > server_.config().write_high_water;
}

void Connection::pause_reading() {
  if (!reading_) return;
  reading_ = false;
  // On epoll the pause is lazy: EPOLLIN stays armed (a deferred handler usually answers before
  // the client sends more, and resume_reading then costs no epoll_ctl either); on_io disarms
  // it when input does arrive meanwhile (pipelined bytes, the peer's EOF).
  if (ring_mode()) update_interest();
}

void Connection::resume_reading() {
  if (reading_) return;
  reading_ = true;
  update_interest();
  if (input_held_) read_held_input_later();  // no readiness event will come for it
}

void Connection::update_interest() {
  if (fd_ < 0) return;
  if (ring_mode()) {
    ring_update();
    return;
  }
  uint32_t want = 0;
  // Paused lazily (pause_reading) with EPOLLIN still armed: it stays, unless closing or at EOF
  // (a readable EOF would wake every iteration).
  bool lazy = !reading_ && (interest_ & EPOLLIN) && !peer_closed_;
  if (((reading_ || lazy) && !closing_) || lingering_) want |= EPOLLIN;
  if (!peer_closed_) want |= EPOLLRDHUP;
  // Until a TLS handshake is done output waits; the handshake itself may need writability.
  if ((transport_->established() && !out_.empty()) || transport_->wants_write()) want |= EPOLLOUT;
  if (want != interest_) {
    interest_ = want;
    server_.loop().modify(fd_, want, this);
  }
}

void Connection::on_io(uint32_t events) {
  auto self = shared_from_this();  // a protocol callback may close and release us
  if (events & EPOLLERR) {
    close_now();
    return;
  }
  if ((events & EPOLLOUT) && fd_ >= 0) {
    if (transport_->wants_write()) do_read();  // a handshake blocked on sending goes on
    if (fd_ >= 0) flush();
  }
  bool readable = (events & EPOLLIN) && fd_ >= 0;
  if (readable && ((reading_ && !closing_) || lingering_)) {
    do_read();
  } else {
    if ((events & (EPOLLRDHUP | EPOLLHUP)) && fd_ >= 0 && !peer_closed_) {
      // Not reading (a request is in flight): note the half-close without consuming input.
      peer_closed_ = true;
      if (events & EPOLLHUP) {
        close_now();
        return;
      }
      protocol_->on_peer_closed(*this);
      update_interest();
    }
    if (readable && fd_ >= 0 && (interest_ & EPOLLIN)) {
      // Input while paused lazily: it waits in the socket; disarm EPOLLIN until resume_reading.
      interest_ &= ~static_cast<uint32_t>(EPOLLIN);
      server_.loop().modify(fd_, interest_, this);
    }
  }
  if (fd_ >= 0 && !out_.empty()) flush();
}

void Connection::read_held_input_later() {
  server_.loop().defer([weak = weak_from_this()] {
    auto self = weak.lock();
    if (self && self->fd_ >= 0 && self->reading_ && self->input_held_) self->do_read();
  });
}

void Connection::do_read() {
  char* p = in_.prepare(16 * 1024);  // bytes; the body path reserves more up front
  size_t offered = in_.writable();
  bool was_established = transport_->established();
  ssize_t n = transport_->read(p, offered);
  if (!was_established && transport_->established()) {
    // TLS handshake done: the header timeout starts now; output queued meanwhile may go.
    set_deadline(server_.config().header_timeout);
    update_interest();
  }
  if (n > 0) {
    if (lingering_) {
      in_.clear();  // discarding input after the final response
      return;
    }
    in_.commit(static_cast<size_t>(n));
    input_held_ = static_cast<size_t>(n) == offered && transport_->has_buffered_input();
    protocol_->on_data(*this);
    // Read on while the transport holds more than fit (resume_reading picks it up otherwise).
    if (input_held_ && fd_ >= 0 && reading_ && !closing_) read_held_input_later();
    return;
  }
  if (n == 0) {
    peer_closed_ = true;
    if (lingering_ || closing_) {
      close_now();
      return;
    }
    protocol_->on_peer_closed(*this);
    update_interest();
    return;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
  close_now();
}

void Connection::flush() {
  if (fd_ < 0) return;
  if (ring_mode()) {
    ring_flush();
    return;
  }
  if (!out_.empty()) {
    size_t before = out_.size();
    long written = out_.flush(*transport_);
    if (written < 0) {
      close_now();
      return;
    }
    if (out_.empty()) {
      send_deadline_ = TimePoint::max();
    } else if (written > 0 || send_deadline_ == TimePoint::max()) {
      send_deadline_ = loop_now() + server_.config().send_timeout;  // progress restarts it
    }
    if (before > server_.config().write_low_water && out_.size() <= server_.config().write_low_water)
      protocol_->on_drain(*this);
    if (fd_ < 0) return;
  }
  if (out_.empty() && idle_after_flush_ != Duration::zero()) {
    deadline_ = loop_now() + idle_after_flush_;
    idle_after_flush_ = Duration::zero();
  }
  if (out_.empty() && closing_ && !lingering_) {
    finish_close();
    return;
  }
  update_interest();
}

void Connection::close_after_flush() {
  if (fd_ < 0 || closing_) return;
  closing_ = true;
  if (queued() == 0) {
    finish_close();
  } else {
    update_interest();
  }
}

void Connection::finish_close() {
  if (peer_closed_) {
    close_now();
    return;
  }
  // RFC 9112 §9.6: close the write side first and read until the peer closes, so a response
  // is not destroyed by a TCP reset caused by unread request bytes.
  transport_->shutdown_write();
  lingering_ = true;
  in_.clear();
  set_deadline(server_.config().linger_timeout);
  update_interest();
}

void Connection::set_idle_deadline(Duration from_now) {
  if (queued() == 0) {
    set_deadline(from_now);
  } else {
    deadline_ = TimePoint::max();
    idle_after_flush_ = from_now;
  }
}

void Connection::on_deadline(TimePoint now) {
  if (fd_ < 0) return;
  if (send_deadline_ <= now) {
    FA_LOG(LogLevel::kInfo, "closing a connection whose peer read nothing for %lld s (%zu bytes unsent)",
           static_cast<long long>(
               std::chrono::duration_cast<std::chrono::seconds>(server_.config().send_timeout).count()),
           queued());
    close_now();
    return;
  }
  if (deadline_ > now) return;
  if (!transport_->established()) {
    FA_LOG(LogLevel::kInfo, "closing a connection whose TLS handshake did not finish in time");
    close_now();
    return;
  }
  if (lingering_) {
    close_now();
    return;
  }
  if (queued() != 0) return;  // still sending: the protocol's deadline waits for the output
  clear_deadline();
  protocol_->on_timeout(*this);
}

void Connection::on_server_shutdown() {
  if (fd_ < 0 || closing_) return;
  protocol_->on_shutdown(*this);
}

void Connection::close_now() {
  if (fd_ < 0) return;
  if (!ring_mode()) {
    server_.loop().remove(fd_);
  } else if (ring_ops_ > 0) {
    ring_->cancel_fd(fd_);  // submitted now; a send in flight keeps its bytes (inflight_)
  }
  ::close(fd_);
  fd_ = -1;
  out_.clear();
  if (protocol_) protocol_->on_close(*this);
  server_.release(this);
}

}  // namespace fa::http
