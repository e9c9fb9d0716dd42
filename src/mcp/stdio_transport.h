// StdioTransport: MCP over stdin/stdout (basic/transports.mdx "stdio"): newline-delimited
// JSON-RPC messages, non-blocking reads of the input fd on the EventLoop, output through a
// WriteQueue, exit on EOF. Diagnostics go to stderr only; stdout carries nothing but messages.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "core/write_queue.h"
#include "mcp/server_core.h"

namespace fa::mcp {

class StdioTransport {
 public:
  // Bytes read per read(2) call.
  static constexpr size_t kReadChunkBytes = 64 * 1024;

  StdioTransport(EventLoop& loop, ServerCore& core, int in_fd = 0, int out_fd = 1);
  ~StdioTransport();
  StdioTransport(const StdioTransport&) = delete;
  StdioTransport& operator=(const StdioTransport&) = delete;

  // Makes the fds non-blocking and starts reading. Returns false (errno set) on failure.
  bool start();
  // fn() runs once when the transport is done: input reached EOF and output is flushed, or
  // output failed (the client went away).
  void on_closed(std::function<void()> fn) { on_closed_ = std::move(fn); }
  bool closed() const { return closed_; }

 private:
  class Reader;
  class Writer;
  class Out;
  void read_ready();
  void consume_lines();
  void handle_line(std::string_view line);
  void write(std::string_view message);
  void flush();
  void finish();

  EventLoop& loop_;
  ServerCore& core_;
  int in_fd_, out_fd_;
  int in_flags_ = -1, out_flags_ = -1;  // fcntl flags before start(), restored on destruction
  std::unique_ptr<Reader> reader_;
  std::unique_ptr<Writer> writer_;
  std::shared_ptr<Out> out_;
  std::shared_ptr<Session> session_;
  std::string in_;          // bytes read, not yet a complete line
  size_t scanned_ = 0;      // bytes of in_ known to hold no newline
  bool discarding_ = false; // inside an oversized line: drop bytes up to the next newline
  bool in_polled_ = false, out_polled_ = false, out_watching_ = false;
  bool eof_ = false, closed_ = false;
  WriteQueue queue_;
  std::function<void()> on_closed_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fa::mcp
