// WebSocket broadcast receiver for benchmarks: opens N connections, prints "ready" once every
// handshake is done, then counts the frames the server sends until each connection has
// EXPECT messages (or TIMEOUT seconds pass). One thread, epoll. Prints one JSON line:
//   {"connected": N, "messages": ..., "seconds": first-to-last message, "errors": ...}
// Usage: ws_subscribe HOST PORT PATH CONNECTIONS EXPECT TIMEOUT_SECONDS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  bool upgraded = false;
  std::string head;
  unsigned char hdr[10];  // the current frame's head (RFC 6455 §5.2), unmasked from the server
  size_t hdr_got = 0, hdr_need = 2;
  uint64_t payload_left = 0;
  bool in_payload = false;
  long messages = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s HOST PORT PATH CONNECTIONS EXPECT TIMEOUT\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int port = std::atoi(argv[2]);
  std::string path = argv[3];
  int n = std::atoi(argv[4]);
  long expect = std::atol(argv[5]);
  double timeout = std::atof(argv[6]);
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &addr.sin_addr);
  int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(n));
  long errors = 0;
  for (size_t i = 0; i < conns.size(); ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      ++errors;
      ::close(fd);
      continue;
    }
    conns[i].fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  int upgraded = 0, done = 0;
  long total = 0;
  bool announced = false;
  Clock::time_point first{}, last{};
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(timeout));
  std::vector<char> buf(1 << 16);
  std::vector<epoll_event> events(256);
  while (Clock::now() < deadline && done + static_cast<int>(errors) < n) {
    if (!announced && upgraded + errors == n) {
      std::printf("ready\n");
      std::fflush(stdout);
      announced = true;
    }
    int k = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    for (int e = 0; e < k; ++e) {
      Conn& c = conns[events[e].data.u64];
      ssize_t got = ::recv(c.fd, buf.data(), buf.size(), 0);
      if (got <= 0) {
        ++errors;
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        continue;
      }
      size_t off = 0, len = static_cast<size_t>(got);
      if (!c.upgraded) {
        c.head.append(buf.data(), len);
        size_t end = c.head.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        if (c.head.compare(0, 12, "HTTP/1.1 101") != 0) {
          ++errors;
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          ::close(c.fd);
          continue;
        }
        c.upgraded = true;
        ++upgraded;
        off = len - (c.head.size() - end - 4);
      }
      while (off < len) {
        if (c.in_payload) {
          uint64_t take = std::min<uint64_t>(c.payload_left, len - off);
          c.payload_left -= take;
          off += take;
          if (c.payload_left == 0) c.in_payload = false;
          continue;
        }
        c.hdr[c.hdr_got++] = static_cast<unsigned char>(buf[off++]);
        if (c.hdr_got == 2) {
          unsigned l7 = c.hdr[1] & 0x7f;
          c.hdr_need = l7 == 126 ? 4 : l7 == 127 ? 10 : 2;
        }
        if (c.hdr_got < c.hdr_need) continue;
        uint64_t plen = c.hdr[1] & 0x7f;
        if (plen == 126) plen = (uint64_t{c.hdr[2]} << 8) | c.hdr[3];
        if (plen == 127) {
          plen = 0;
          for (int b = 2; b < 10; ++b) plen = (plen << 8) | c.hdr[b];
        }
        unsigned opcode = c.hdr[0] & 0x0f;
        c.hdr_got = 0;
        c.hdr_need = 2;
        c.payload_left = plen;
        c.in_payload = plen > 0;
        if (opcode == 0x1 || opcode == 0x2) {
          auto now = Clock::now();
          if (total == 0) first = now;
          last = now;
          ++total;
          if (++c.messages == expect) ++done;
        } else if (opcode == 0x8) {
          ++errors;  // the server closed on us
        }
      }
    }
  }
  std::printf("{\"connected\": %d, \"messages\": %ld, \"seconds\": %.6f, \"errors\": %ld}\n", upgraded,
              total, std::chrono::duration<double>(last - first).count(), errors);
  for (auto& c : conns)
    if (c.fd >= 0) ::close(c.fd);
  return 0;
}
