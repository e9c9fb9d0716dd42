// FdStream: one non-blocking fd (a TCP socket or one end of a pipe) on the EventLoop for the MCP
// client's upstream connections: bytes read go to a callback as they arrive, writes go out at
// once when nothing is queued (the rest is queued and flushed when the fd is writable), and EOF
// or an error is reported once. A socket may carry
// TLS (a client-role TlsTransport): its handshake runs on the same events.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/event_loop.h"
#include "core/write_queue.h"

namespace fa::mcp::client {

class FdStream final : public IoHandler, public std::enable_shared_from_this<FdStream> {
 public:
  struct Callbacks {
    std::function<void(std::string_view)> on_data;  // bytes read (reading streams only)
    std::function<void(int error)> on_closed;       // EOF (error 0) or errno; called once
  };
  static constexpr size_t kReadChunkBytes = 64 * 1024;

  // Takes ownership of `fd` (made non-blocking). `socket`: send/recv instead of write/read.
  // `reading`: watch for input (a pipe we only write to is not).
  // `transport`: how the socket's bytes go (e.g. TLS); default plain TCP or pipe I/O.
  static std::shared_ptr<FdStream> open(EventLoop& loop, int fd, bool socket, bool reading,
                                        Callbacks callbacks,
                                        std::unique_ptr<Transport> transport = nullptr);
  ~FdStream() override;
  FdStream(const FdStream&) = delete;
  FdStream& operator=(const FdStream&) = delete;

  // Writes `bytes` then `more` (the caller's buffers; no copy when nothing is queued: one
  // writev straight from them) and queues what the fd does not take now. Returns false once
  // closed.
  bool write(std::string_view bytes, std::string_view more = {});
  // Unregisters and closes the fd; on_closed is not called. Safe inside callbacks.
  void close();
  bool closed() const { return fd_ < 0; }
  int fd() const { return fd_; }
  Transport& transport() const { return *transport_; }
  // Calls fn() once the fd is writable (a non-blocking connect finished), then resumes.
  void on_writable(std::function<void()> fn);

  void on_io(uint32_t events) override;

 private:
  FdStream(EventLoop& loop, int fd, bool socket, bool reading, Callbacks callbacks,
           std::unique_ptr<Transport> transport);
  void flush();
  void update_interest();
  void fail(int error);

  EventLoop& loop_;
  int fd_;
  bool socket_, reading_;
  Callbacks cb_;
  std::unique_ptr<Transport> transport_;
  WriteQueue out_;
  uint32_t interest_ = 0;
  bool registered_ = false;
  std::function<void()> writable_;
  std::string buf_;
};

}  // namespace fa::mcp::client
