// WebSocket echo load generator: N connections, each sending masked text frames of a fixed
// size and counting the echoed frames (closed loop, `depth` messages in flight per
// connection). One thread, epoll, no allocation per message, so a Python server is the
// bottleneck and not this. Prints one JSON line:
//   {"messages": ..., "seconds": ..., "errors": ..., "connected": ...}
// Usage: ws_echo_load HOST PORT PATH CONNECTIONS SIZE SECONDS [WARMUP_SECONDS] [DEPTH]
// Errors: a response frame that is not a final text frame of SIZE bytes (a close, a wrong
// length), a connection that drops, or a handshake that is not 101.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  bool open = false;
  bool upgraded = false;
  std::string head;       // handshake response until the blank line
  size_t got = 0;         // bytes of the current response frame received
  size_t in_flight = 0;   // messages sent, not yet echoed
  unsigned char first[4]; // the first bytes of the current response frame (its head)
};

std::string make_frame(size_t size) {
  // RFC 6455 §5.2: FIN + text, MASK bit, length, 4-byte key, masked payload.
  std::string f;
  f.push_back(static_cast<char>(0x81));
  if (size < 126) {
    f.push_back(static_cast<char>(0x80 | size));
  } else if (size < 65536) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(size >> 8));
    f.push_back(static_cast<char>(size & 0xff));
  } else {
    std::fprintf(stderr, "size must be < 65536\n");
    std::exit(2);
  }
  const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
  f.append(reinterpret_cast<const char*>(key), 4);
  for (size_t i = 0; i < size; ++i) f.push_back(static_cast<char>('a' ^ key[i % 4]));
  return f;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) continue;  // tiny frames: the kernel buffer frees up at once
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s HOST PORT PATH CONNECTIONS SIZE SECONDS [WARMUP] [DEPTH]\n",
                 argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int port = std::atoi(argv[2]);
  std::string path = argv[3];
  int nconn = std::atoi(argv[4]);
  size_t size = static_cast<size_t>(std::atol(argv[5]));
  double seconds = std::atof(argv[6]);
  double warmup = argc > 7 ? std::atof(argv[7]) : 1.0;
  size_t depth = argc > 8 ? static_cast<size_t>(std::atoi(argv[8])) : 1;

  const std::string frame = make_frame(size);
  std::string burst;
  for (size_t i = 0; i < depth; ++i) burst += frame;
  const size_t resp_head = size < 126 ? 2 : 4;
  const size_t resp_size = resp_head + size;
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" +
                              std::to_string(port) +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";

  int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(nconn));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &addr.sin_addr);
  long errors = 0;
  for (size_t i = 0; i < conns.size(); ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        !send_all(fd, request)) {
      ++errors;
      ::close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[i].fd = fd;
    conns[i].open = true;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }

  auto start = Clock::now();
  auto measure_from = start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(warmup));
  auto end = measure_from + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(seconds));
  long counted = 0, measuring_errors = 0;
  int connected = 0;
  bool measuring = false;
  std::vector<char> buf(1 << 16);
  std::vector<epoll_event> events(256);

  auto fail = [&](Conn& c) {
    ++errors;
    if (measuring) ++measuring_errors;
    c.open = false;
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
  };

  while (true) {
    auto now = Clock::now();
    if (!measuring && now >= measure_from) {
      measuring = true;
      counted = 0;
      measuring_errors = 0;
    }
    if (now >= end) break;
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[e].data.u64];
      if (!c.open) continue;
      ssize_t got = ::recv(c.fd, buf.data(), buf.size(), 0);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        fail(c);
        continue;
      }
      size_t off = 0;
      if (!c.upgraded) {
        c.head.append(buf.data(), static_cast<size_t>(got));
        size_t end_of_head = c.head.find("\r\n\r\n");
        if (end_of_head == std::string::npos) continue;
        if (c.head.compare(0, 12, "HTTP/1.1 101") != 0) {
          fail(c);
          continue;
        }
        c.upgraded = true;
        ++connected;
        off = static_cast<size_t>(got) - (c.head.size() - end_of_head - 4);
        if (!send_all(c.fd, burst)) {
          fail(c);
          continue;
        }
        c.in_flight = depth;
      }
      size_t len = static_cast<size_t>(got);
      while (off < len) {
        size_t take = std::min(len - off, resp_size - c.got);
        for (size_t k = 0; k < take && c.got + k < resp_head; ++k)
          c.first[c.got + k] = static_cast<unsigned char>(buf[off + k]);
        c.got += take;
        off += take;
        if (c.got == resp_size) {
          c.got = 0;
          bool ok = c.first[0] == 0x81 &&
                    (resp_head == 2 ? c.first[1] == size
                                    : c.first[1] == 126 && ((c.first[2] << 8) | c.first[3]) == size);
          if (!ok) {
            fail(c);
            break;
          }
          ++counted;
          if (!send_all(c.fd, frame)) {
            fail(c);
            break;
          }
        }
      }
    }
  }
  double measured = std::chrono::duration<double>(Clock::now() - measure_from).count();
  std::printf(
      "{\"messages\": %ld, \"seconds\": %.3f, \"errors\": %ld, \"errors_total\": %ld, "
      "\"connected\": %d}\n",
      counted, measured, measuring_errors, errors, connected);
  for (auto& c : conns)
    if (c.open) ::close(c.fd);
  return 0;
}
