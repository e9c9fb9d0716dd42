// The MCP client's FdStream (src/mcp/client/fd_stream.h) writing to a pipe: a write with
// nothing queued goes out at once from the caller's buffers, what the pipe does not take is
// queued and flushed in order as it drains, and a reader gone ends the stream with EPIPE.
#include "mcp/client/fd_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "core/event_loop.h"

namespace fa::mcp::client {
namespace {

std::string pattern(size_t n, char seed) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (seed + i * 7) % 26);
  return s;
}

TEST(ClientFdStream, WritesInOrderPastWhatThePipeTakes) {
  ::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  EventLoop loop;
  int closed_with = -1;
  auto stream = FdStream::open(loop, fds[1], false, false,
                               {nullptr, [&](int error) { closed_with = error; }});
  // Small: all of it in one writev. Large (past the pipe's 64 KiB): the rest is queued, and
  // a later write queues behind it.
  const std::string a = pattern(100, 1), b = pattern(50, 2);
  const std::string c = pattern(150 * 1024, 3), d = pattern(70 * 1024, 4), e = "tail\n";
  ASSERT_TRUE(stream->write(a, b));
  std::string got(256, '\0');
  ASSERT_EQ(::read(fds[0], got.data(), got.size()), static_cast<ssize_t>(a.size() + b.size()));
  got.resize(a.size() + b.size());
  EXPECT_EQ(got, a + b);
  ASSERT_TRUE(stream->write(c, d));
  ASSERT_TRUE(stream->write(e));
  const std::string want = c + d + e;
  got.clear();
  char buf[16384];
  for (int i = 0; i < 2000 && got.size() < want.size(); ++i) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    loop.run_once(1);
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  EXPECT_EQ(closed_with, -1);
  // The reader goes away: the next write fails and the stream reports EPIPE once.
  ::close(fds[0]);
  EXPECT_FALSE(stream->write(a));
  EXPECT_EQ(closed_with, EPIPE);
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->write(b));
}

}  // namespace
}  // namespace fa::mcp::client
