// Server implementation: listener, accept loop, connection registry, sweep, shutdown.
#include "http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/log.h"
#include "core/uring_ring.h"
#include "http/connection.h"
#include "http/h1_protocol.h"
#include "tls/tls_transport.h"

namespace fa::http {

namespace {
constexpr int kMaxAcceptsPerWake = 64;  // then let other connections run
constexpr auto kSweepInterval = std::chrono::seconds(1);
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);  // after EMFILE/ENFILE
}  // namespace

class Server::Listener final : public IoHandler {
 public:
  Listener(Server& s, int fd) : server_(s), fd_(fd) {}
  ~Listener() override { close(); }
  void on_io(uint32_t) override { server_.accept_ready(); }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) {
      if (ring_accept) {
        server_.loop().uring()->cancel_accept(ring_accept);  // submitted before the close
        ring_accept = 0;
      } else {
        server_.loop().remove(fd_);
      }
      ::close(fd_);
      fd_ = -1;
    }
  }
  uint64_t ring_accept = 0;  // io_uring: the multishot accept's id (0: none armed)

 private:
  Server& server_;
  int fd_;
};

Server::Server(EventLoop& loop, ServerConfig config) : loop_(loop), config_(std::move(config)) {}

Server::~Server() { close(); }

void Server::route(std::string_view method, std::string_view pattern, Handler handler) {
  uint32_t id = static_cast<uint32_t>(handlers_.size());
  router_.add(method, pattern, id);  // throws RouteError
  handlers_.push_back(std::move(handler));
}

void Server::route_streaming(std::string_view method, std::string_view pattern, Handler handler) {
  route(method, pattern, std::move(handler));
  streams_body_.resize(handlers_.size(), false);
  streams_body_.back() = true;
}

uint16_t Server::listen() {
  if (config_.tls.enabled() && !tls_) tls_ = tls::TlsContext::create(config_.tls);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(config_.port);
  const char* host = config_.host.empty() ? nullptr : config_.host.c_str();
  if (int rc = getaddrinfo(host, port.c_str(), &hints, &res); rc != 0) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "Server::listen: cannot resolve " + config_.host + ": " + gai_strerror(rc));
  }
  int fd = -1;
  int last_errno = 0;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (config_.reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, config_.backlog) == 0) break;
    last_errno = errno;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    throw std::system_error(last_errno, std::generic_category(),
                            "Server::listen: cannot bind " + config_.host + ":" + port);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t bound_port = bound.ss_family == AF_INET6
                            ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                            : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listener_ = std::make_unique<Listener>(*this, fd);
  if (loop_.uring())
    ring_accept();
  else
    loop_.add(fd, EPOLLIN, listener_.get());
  if (!sweep_timer_) sweep_timer_ = loop_.call_later(kSweepInterval, [this] { sweep(); });
  return bound_port;
}

void Server::accept_ready() {
  if (!listener_ || listener_->fd() < 0) return;
  for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listener_->fd(), reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        FA_LOG(LogLevel::kWarning, "accept: %s; pausing accepts for 100 ms", std::strerror(errno));
        int lfd = listener_->fd();
        loop_.remove(lfd);
        loop_.call_later(kAcceptBackoff, [this, lfd] {
          if (listener_ && listener_->fd() == lfd && !draining_) loop_.add(lfd, EPOLLIN, listener_.get());
        });
      }
      return;  // EAGAIN: all accepted
    }
    adopt(fd, peer);
  }
}

void Server::adopt(int fd, const sockaddr_storage& peer) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::unique_ptr<Transport> transport;
  if (tls_) transport = std::make_unique<tls::TlsTransport>(fd, tls_);
  auto conn = std::make_shared<Connection>(*this, fd, peer, std::move(transport));
  Connection* raw = conn.get();
  conns_.emplace(raw, std::move(conn));
  raw->set_deadline(tls_ ? std::chrono::duration_cast<Duration>(config_.tls.handshake_timeout)
                         : config_.header_timeout);
  raw->start(std::make_unique<H1Protocol>(*this));
}

void Server::ring_accept() {
  listener_->ring_accept =
      loop_.uring()->accept_multishot(listener_->fd(), [this](int res, bool more) {
        if (res >= 0) {
          adopt(res, sockaddr_storage{});  // the peer's address is asked for when wanted
        } else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
          FA_LOG(LogLevel::kWarning, "accept: %s; pausing accepts for 100 ms", std::strerror(-res));
        }
        if (more) return;
        // The multishot accept ended: re-arm it, after a pause unless the error was transient.
        listener_->ring_accept = 0;
        if (draining_ || listener_->fd() < 0) return;
        if (res >= 0 || res == -ECONNABORTED || res == -EINTR || res == -EAGAIN) {
          ring_accept();
          return;
        }
        int lfd = listener_->fd();
        loop_.call_later(kAcceptBackoff, [this, lfd] {
          if (listener_ && listener_->fd() == lfd && !draining_ && !listener_->ring_accept) ring_accept();
        });
      });
}

std::string Server::reload_tls() {
  if (!config_.tls.enabled()) return "TLS is not configured";
  try {
    tls_ = tls::TlsContext::create(config_.tls);
  } catch (const tls::TlsError& e) {
    FA_LOG(LogLevel::kError, "TLS reload failed, keeping the old certificates: %s", e.what());
    return e.what();
  }
  FA_LOG(LogLevel::kInfo, "TLS certificates reloaded");
  return {};
}

void Server::release(Connection* conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  // Freed after the current event batch: a later event in the batch may still name it.
  loop_.defer([keep = std::move(it->second)] {});
  conns_.erase(it);
}

void Server::sweep() {
  sweep_timer_ = loop_.call_later(kSweepInterval, [this] { sweep(); });
  date_.refresh();
  TimePoint now = loop_.now();
  std::vector<std::shared_ptr<Connection>> expired;
  for (auto& [raw, conn] : conns_)
    if (conn->deadline() <= now) expired.push_back(conn);
  for (auto& c : expired) c->on_deadline(now);
}

void Server::shutdown(Duration grace) {
  if (draining_) return;
  draining_ = true;
  if (listener_) listener_->close();
  std::vector<std::shared_ptr<Connection>> all;
  all.reserve(conns_.size());
  for (auto& [raw, conn] : conns_) all.push_back(conn);
  for (auto& c : all) c->on_server_shutdown();
  grace_timer_ = loop_.call_later(grace, [this] {
    grace_timer_ = 0;
    close();
  });
}

size_t Server::writing() const {
  size_t n = 0;
  for (const auto& [raw, conn] : conns_) n += !conn->closed() && conn->queued() > 0;
  return n;
}

void Server::close() {
  if (listener_) listener_->close();
  std::vector<std::shared_ptr<Connection>> all;
  all.reserve(conns_.size());
  for (auto& [raw, conn] : conns_) all.push_back(conn);
  for (auto& c : all) c->close_now();
  conns_.clear();
  if (sweep_timer_) loop_.cancel(sweep_timer_);
  if (grace_timer_) loop_.cancel(grace_timer_);
  sweep_timer_ = grace_timer_ = 0;
}

}  // namespace fa::http
