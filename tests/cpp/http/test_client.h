// A small blocking HTTP/1.1 client and a server-in-a-thread fixture for server tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "core/event_loop.h"
#include "http/server.h"

namespace fa::testing {

// Runs an EventLoop + Server on a thread; `setup` registers routes before listening. The
// loop's backend is FASTERAPI_LOOP's (else epoll) unless one is given.
class ServerThread {
 public:
  explicit ServerThread(std::function<void(http::Server&)> setup, http::ServerConfig cfg = {})
      : ServerThread(default_loop_backend(), std::move(setup), std::move(cfg)) {}
  ServerThread(LoopBackend backend, std::function<void(http::Server&)> setup,
               http::ServerConfig cfg = {})
      : loop_(backend) {
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    server_ = std::make_unique<http::Server>(loop_, cfg);
    setup(*server_);
    port_ = server_->listen();
    thread_ = std::thread([this] {
      while (!stop_) {
        loop_.run_once(5);
        if (auto fn = pending_.exchange(nullptr)) {
          (*fn)();
          delete fn;
          done_ = true;
        }
      }
      server_->close();
      loop_.run_once(0);
    });
  }
  ~ServerThread() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return port_; }
  // Runs fn on the loop thread and waits for it.
  void run_on_loop(std::function<void()> fn) {
    done_ = false;
    pending_ = new std::function<void()>(std::move(fn));
    while (!done_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  http::Server& server() { return *server_; }
  EventLoop& loop() { return loop_; }

 private:
  EventLoop loop_;
  std::unique_ptr<http::Server> server_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<std::function<void()>*> pending_{nullptr};
  std::thread thread_;
};

inline int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

struct HttpResponse {
  int status = 0;
  std::string head;  // status line + headers
  std::string body;  // de-chunked
  bool ok = false;   // a complete response was read
  std::string header(std::string_view name) const {
    std::string lower_head;
    for (char c : head) lower_head += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string key = "\r\n" + std::string(name) + ":";
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t p = lower_head.find(key);
    if (p == std::string::npos) return {};
    size_t v = p + key.size();
    while (v < head.size() && head[v] == ' ') ++v;
    size_t e = head.find("\r\n", v);
    return head.substr(v, e - v);
  }
};

// Reads one response from fd (buffer `pending` carries bytes between calls). Waits up to 5 s.
inline HttpResponse read_response(int fd, std::string& pending, bool head_request = false) {
  HttpResponse r;
  auto fill = [&]() {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending.append(buf, static_cast<size_t>(n));
    return true;
  };
  size_t end;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return r;
  r.head = pending.substr(0, end + 2);
  pending.erase(0, end + 4);
  r.status = std::atoi(r.head.c_str() + 9);
  if (r.status == 100) return read_response(fd, pending, head_request);
  if (head_request || r.status == 204 || r.status == 304) {
    r.ok = true;
    return r;
  }
  std::string cl = r.header("content-length");
  if (!cl.empty()) {
    size_t n = std::stoul(cl);
    while (pending.size() < n)
      if (!fill()) return r;
    r.body = pending.substr(0, n);
    pending.erase(0, n);
    r.ok = true;
    return r;
  }
  if (r.header("transfer-encoding") == "chunked") {
    for (;;) {
      size_t le;
      while ((le = pending.find("\r\n")) == std::string::npos)
        if (!fill()) return r;
      size_t size = std::stoul(pending.substr(0, le), nullptr, 16);
      while (pending.size() < le + 2 + size + 2)
        if (!fill()) return r;
      r.body += pending.substr(le + 2, size);
      pending.erase(0, le + 2 + size + 2);
      if (size == 0) break;
    }
    r.ok = true;
    return r;
  }
  while (fill()) {
  }
  r.body = pending;
  pending.clear();
  r.ok = true;
  return r;
}

// True if the peer closed the connection (recv returns 0) within 5 s.
inline bool wait_closed(int fd) {
  pollfd p{fd, POLLIN, 0};
  char buf[4096];
  for (int i = 0; i < 100; ++i) {
    if (::poll(&p, 1, 5000) <= 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return false;
}

}  // namespace fa::testing
