// StdioUpstream: spawn, newline framing, reaping.
#include "mcp/client/stdio_upstream.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/log.h"
#include "mcp/jsonrpc.h"

extern char** environ;

namespace fa::mcp::client {

std::shared_ptr<StdioUpstream> StdioUpstream::create(EventLoop& loop, std::vector<std::string> argv,
                                                     UpstreamOptions options, StdioOptions stdio) {
  return std::shared_ptr<StdioUpstream>(
      new StdioUpstream(loop, std::move(argv), std::move(options), std::move(stdio)));
}

StdioUpstream::StdioUpstream(EventLoop& loop, std::vector<std::string> argv,
                             UpstreamOptions options, StdioOptions stdio)
    : Upstream(loop, std::move(options)), argv_(std::move(argv)), stdio_(std::move(stdio)) {}

StdioUpstream::~StdioUpstream() {
  if (in_) in_->close();
  if (out_) out_->close();
  if (pid_ > 0 && !try_reap()) {
    // Destroyed with the child still running (the loop is going away): do not leave a zombie.
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

future<> StdioUpstream::open() {
  if (argv_.empty())
    return make_exception_future<>(std::invalid_argument("stdio upstream: empty command"));
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0)
    return make_exception_future<>(std::system_error(errno, std::generic_category(), "pipe"));
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(to_child[0]);
    ::close(to_child[1]);
    return make_exception_future<>(std::system_error(e, std::generic_category(), "pipe"));
  }
  // A child that exits at once (or closes its stdin) must make our writes fail with EPIPE, not
  // kill this process: SIGPIPE is ignored unless the program has its own handler (Python
  // ignores it already). The child gets the default back, as Popen's restore_signals does.
  struct sigaction old {};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL)
    ::signal(SIGPIPE, SIG_IGN);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
  if (stdio_.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdio_.stderr_fd, 2);
  if (!stdio_.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, stdio_.cwd.c_str());
  std::vector<char*> args;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (stdio_.env) {
    for (auto& e : *stdio_.env) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
  pid_t pid = 0;
  // posix_spawnp searches the PATH of this process, not of `env` (as Popen does on POSIX).
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(),
                          stdio_.env ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(to_child[0]);
  ::close(from_child[1]);
  if (rc != 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    return make_exception_future<>(
        std::system_error(rc, std::generic_category(), "spawning " + argv_[0]));
  }
  pid_ = pid;
  std::weak_ptr<Upstream> weak = weak_from_this();
  auto self_of = [weak] { return std::static_pointer_cast<StdioUpstream>(weak.lock()); };
  in_ =
      FdStream::open(loop_, to_child[1], false, false, {nullptr, [self_of](int) {
                                                          if (auto s = self_of())
                                                            s->gone("the server closed its stdin");
                                                        }});
  out_ = FdStream::open(loop_, from_child[0], false, true,
                        {[self_of](std::string_view b) {
                           if (auto s = self_of()) s->on_data(b);
                         },
                         [self_of](int) {
                           if (auto s = self_of()) s->gone("the server process exited");
                         }});
  return make_ready_future<>();
}

void StdioUpstream::send_request(uint64_t, std::string&& body, const Request&) {
  body.push_back('\n');
  if (in_) in_->write(body);
}

void StdioUpstream::send_notification(std::string&& body) {
  body.push_back('\n');
  if (in_) in_->write(body);
}

void StdioUpstream::on_data(std::string_view bytes) {
  if (buf_.empty()) {
    // The usual case: the read holds whole lines; they are handled where they are (the
    // stream's read buffer, untouched until this returns) and only a partial last line is
    // kept.
    size_t start = 0;
    for (size_t nl; (nl = bytes.find('\n', start)) != std::string_view::npos; start = nl + 1)
      line(bytes.substr(start, nl - start));
    bytes.remove_prefix(start);
    if (bytes.empty()) return;
    scanned_ = 0;
  }
  buf_.append(bytes);
  size_t start = 0;
  for (;;) {
    size_t nl = buf_.find('\n', scanned_);
    if (nl == std::string::npos) break;
    line(std::string_view(buf_.data() + start, nl - start));
    start = nl + 1;
    scanned_ = start;
  }
  buf_.erase(0, start);
  scanned_ = buf_.size();
  if (buf_.size() > kMaxMessageBytes) {  // one message past the limit: drop it, keep going
    FA_LOG(::fa::LogLevel::kWarning, "mcp stdio upstream: dropped a message over %zu bytes",
           kMaxMessageBytes);
    buf_.clear();
    scanned_ = 0;
    discarding_ = true;
  }
}

void StdioUpstream::line(std::string_view text) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (discarding_) {
    discarding_ = false;  // the tail of an oversized line
  } else if (!text.empty()) {
    on_message(text);
  }
}

void StdioUpstream::gone(std::string_view why) {
  if (in_) in_->close();
  if (out_) out_->close();
  // The pipes close a moment before the child can be reaped: give pending requests the exit
  // status when it comes soon (what the caller needs to know why the server went away).
  fail_pending(std::string("Connection closed: ") + std::string(why), loop_.now());
  if (pid_ > 0 && !try_reap()) reap_later(0);
}

void StdioUpstream::fail_pending(std::string why, TimePoint since) {
  if (!try_reap() && loop_.update_now() - since < kExitWait) {
    auto self = std::static_pointer_cast<StdioUpstream>(shared_from_this());
    loop_.call_later(std::chrono::milliseconds(5), [self, why = std::move(why), since]() mutable {
      self->fail_pending(std::move(why), since);
    });
    return;
  }
  if (returncode_) why += " (the process exited with code " + std::to_string(*returncode_) + ")";
  correlator_.fail_all(why);
  closed_because(why);
}

void StdioUpstream::close() {
  if (in_) in_->close();  // EOF on the child's stdin: a stdio server exits (transports.mdx)
  if (out_) out_->close();
  correlator_.fail_all("Connection closed");
  closed_because("the client closed the connection");
  if (pid_ > 0 && !try_reap()) reap_later(0);
}

future<> StdioUpstream::shutdown() {
  close();
  if (pid_ <= 0) return make_ready_future<>();
  reaped_waiters_.emplace_back();
  return reaped_waiters_.back().get_future();
}

bool StdioUpstream::try_reap() {
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    pid_ = -1;
    if (r > 0) {
      if (WIFEXITED(status)) returncode_ = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) returncode_ = -WTERMSIG(status);
    }
    auto waiters = std::move(reaped_waiters_);
    reaped_waiters_.clear();
    for (auto& w : waiters) w.set_value();
    return true;
  }
  return false;
}

// Polls waitpid every 20 ms; after kGrace sends SIGTERM, after another kGrace SIGKILL. Each
// step's timer holds the upstream (never the other way round, so nothing leaks); if the loop
// goes away first, the destructor kills and reaps the child.
void StdioUpstream::reap_later(int stage) {
  reap_step(stage, loop_.now());
}

void StdioUpstream::reap_step(int stage, TimePoint start) {
  if (try_reap()) return;
  if (loop_.update_now() - start >= stdio_.grace && stage < 2) {
    ::kill(pid_, stage == 0 ? SIGTERM : SIGKILL);
    ++stage;
    start = loop_.now();
  }
  auto self = std::static_pointer_cast<StdioUpstream>(shared_from_this());
  loop_.call_later(std::chrono::milliseconds(20),
                   [self, stage, start] { self->reap_step(stage, start); });
}

}  // namespace fa::mcp::client
