// StdioUpstream: an MCP server run as a child process (basic/transports.mdx "stdio"): its stdin
// and stdout are pipes carrying newline-delimited JSON-RPC, its stderr is ours (passed through).
// Closing ends its stdin (the server exits on EOF), then SIGTERM and SIGKILL if it lingers;
// the child is always reaped with waitpid.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "mcp/client/fd_stream.h"
#include "mcp/client/upstream.h"

namespace fa::mcp::client {

class StdioUpstream final : public Upstream {
 public:
  // How long a closing child gets after EOF on its stdin, then after SIGTERM.
  static constexpr auto kGrace = std::chrono::milliseconds(2000);

  static std::shared_ptr<StdioUpstream> create(EventLoop& loop, std::vector<std::string> argv,
                                               UpstreamOptions options = {});
  ~StdioUpstream() override;

  void close() override;
  bool alive() const override { return out_ && !out_->closed() && in_ && !in_->closed(); }
  pid_t pid() const { return pid_; }
  // True once the child was reaped.
  bool reaped() const { return pid_ <= 0; }
  bool finished() const override { return !alive() && reaped(); }

 protected:
  future<> open() override;
  void send_request(uint64_t id, std::string&& body, const Request& request) override;
  void send_notification(std::string&& body) override;

 private:
  StdioUpstream(EventLoop& loop, std::vector<std::string> argv, UpstreamOptions options);
  void on_data(std::string_view bytes);
  void gone(std::string_view why);
  void reap_later(int stage);
  void reap_step(int stage, TimePoint start);
  bool try_reap();

  std::vector<std::string> argv_;
  pid_t pid_ = 0;
  std::shared_ptr<FdStream> in_;   // the child's stdin (we write)
  std::shared_ptr<FdStream> out_;  // the child's stdout (we read)
  std::string buf_;
  size_t scanned_ = 0;
  bool discarding_ = false;
};

}  // namespace fa::mcp::client
