// StdioUpstream: an MCP server run as a child process (basic/transports.mdx "stdio"): its stdin
// and stdout are pipes carrying newline-delimited JSON-RPC, its stderr is ours (passed through).
// Closing ends its stdin (the server exits on EOF), then SIGTERM and SIGKILL if it lingers;
// the child is always reaped with waitpid.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mcp/client/fd_stream.h"
#include "mcp/client/upstream.h"

namespace fa::mcp::client {

struct StdioOptions {
  // The child's whole environment as "NAME=value" entries; unset: this process's.
  std::optional<std::vector<std::string>> env;
  std::string cwd;     // empty: ours
  int stderr_fd = -1;  // where the child's stderr goes (dup'ed; not owned); -1: ours
  // How long a closing child gets after EOF on its stdin, then after SIGTERM.
  std::chrono::milliseconds grace{2000};
};

class StdioUpstream final : public Upstream {
 public:
  static constexpr auto kGrace = std::chrono::milliseconds(2000);  // StdioOptions' default
  // How long a child whose pipes closed may take to be reaped before pending requests fail
  // (without its exit status in the message).
  static constexpr auto kExitWait = std::chrono::milliseconds(500);

  static std::shared_ptr<StdioUpstream> create(EventLoop& loop, std::vector<std::string> argv,
                                               UpstreamOptions options = {},
                                               StdioOptions stdio = {});
  ~StdioUpstream() override;

  void close() override;
  bool alive() const override { return out_ && !out_->closed() && in_ && !in_->closed(); }
  pid_t pid() const { return pid_; }
  // True once the child was reaped.
  bool reaped() const { return pid_ <= 0; }
  bool finished() const override { return !alive() && reaped(); }
  // After reaping: the exit code, or minus the signal that ended the child (Popen's returncode).
  std::optional<int> returncode() const { return returncode_; }
  // close(), then ready once the child has been reaped.
  future<> shutdown() override;

 protected:
  future<> open() override;
  void send_request(uint64_t id, std::string&& body, const Request& request) override;
  void send_notification(std::string&& body) override;

 private:
  StdioUpstream(EventLoop& loop, std::vector<std::string> argv, UpstreamOptions options,
                StdioOptions stdio);
  void fail_pending(std::string why, TimePoint since);
  void on_data(std::string_view bytes);
  void line(std::string_view text);  // one newline-delimited message (basic/transports.mdx)
  void gone(std::string_view why);
  void reap_later(int stage);
  void reap_step(int stage, TimePoint start);
  bool try_reap();

  std::vector<std::string> argv_;
  StdioOptions stdio_;
  pid_t pid_ = 0;
  std::optional<int> returncode_;
  std::vector<promise<>> reaped_waiters_;
  std::shared_ptr<FdStream> in_;   // the child's stdin (we write)
  std::shared_ptr<FdStream> out_;  // the child's stdout (we read)
  std::string buf_;
  size_t scanned_ = 0;
  bool discarding_ = false;
};

}  // namespace fa::mcp::client
