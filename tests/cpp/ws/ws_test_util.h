// Test helpers for WebSocket: client frames (masked, as RFC 6455 §5.3 requires of clients) and
// a small blocking client on a real socket.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "http/test_client.h"
#include "ws/frame_head.h"

namespace fa::testing {

// One client frame: FIN/RSV/opcode as given, masked with a fixed key unless `masked` is false.
inline std::string client_frame(uint8_t opcode, std::string_view payload, bool fin = true,
                                bool masked = true, uint8_t rsv = 0) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | (rsv << 4) | opcode));
  uint8_t mbit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(mbit | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    f.push_back(static_cast<char>(mbit | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    f.push_back(static_cast<char>(mbit | 127));
    for (int i = 7; i >= 0; --i)
      f.push_back(static_cast<char>((uint64_t{payload.size()} >> (8 * i)) & 0xFF));
  }
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::string body(payload);
  if (masked) {
    f.append(reinterpret_cast<const char*>(key), 4);
    ws::apply_mask(body.data(), body.size(), key, 0);
  }
  return f + body;
}

inline std::string close_payload(uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason);
  return p;
}

struct ServerFrame {
  uint8_t opcode = 0;
  bool fin = false;
  bool rsv1 = false;
  std::string payload;
  uint16_t close_code() const {
    return payload.size() >= 2
               ? static_cast<uint16_t>((uint8_t(payload[0]) << 8) | uint8_t(payload[1]))
               : 0;
  }
};

// A blocking client: connect, handshake, frames in and out.
class WsClient {
 public:
  explicit WsClient(uint16_t port) : fd_(connect_to(port)) {}
  ~WsClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  static std::string upgrade_request(std::string_view path = "/ws",
                                     std::string_view extra_headers = {}) {
    std::string req =
        "GET " + std::string(path) +
        " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    req.append(extra_headers).append("\r\n");
    return req;
  }

  // Sends the upgrade request; returns the response head (through the blank line).
  std::string handshake(std::string_view path = "/ws", std::string_view extra_headers = {}) {
    send_raw(upgrade_request(path, extra_headers));
    return read_head();
  }

  // The next HTTP response head (through the blank line), or what arrived before EOF/timeout.
  std::string read_head() {
    while (buf_.find("\r\n\r\n") == std::string::npos)
      if (!fill()) break;
    size_t end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) return std::exchange(buf_, {});
    std::string head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    return head;
  }

  void send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void send_frame(uint8_t opcode, std::string_view payload, bool fin = true) {
    send_raw(client_frame(opcode, payload, fin));
  }

  // The next frame, or nullopt on EOF/timeout.
  std::optional<ServerFrame> read_frame(int timeout_ms = 3000) {
    for (;;) {
      ws::FrameHead h;
      int r = ws::parse_frame_head(buf_, h);
      if (r > 0 && buf_.size() >= h.head_len + h.payload_len) {
        ServerFrame f{h.opcode, h.fin, h.rsv1, buf_.substr(h.head_len, h.payload_len)};
        buf_.erase(0, h.head_len + h.payload_len);
        return f;
      }
      if (!fill(timeout_ms)) return std::nullopt;
    }
  }

  // True when the server closes the TCP connection within the timeout (input discarded).
  bool wait_eof(int timeout_ms = 3000) {
    while (fill(timeout_ms)) buf_.clear();
    return eof_;
  }

 private:
  bool fill(int timeout_ms = 3000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string buf_;
  bool eof_ = false;
};

}  // namespace fa::testing
