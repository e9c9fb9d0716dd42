// Tests for futures on the real EventLoop: sleep, with_timeout, retry, fd readiness, connect
// and accept over loopback. Short real delays; assertions are on order and outcome only.
#include "core/loop_futures.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <vector>

#include "core/future_repeat.h"
#include "core/future_timers.h"
#include "core/retry.h"
#include "core/when_all.h"

namespace fa {
namespace {

using std::chrono::milliseconds;

TEST(LoopFutures, SleepsResolveInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> order;
  std::vector<future<>> fs;
  fs.push_back(sleep(loop, milliseconds(20)).then([&] { order.push_back(20); }));
  fs.push_back(sleep(loop, milliseconds(1)).then([&] { order.push_back(1); }));
  fs.push_back(sleep(loop, milliseconds(10)).then([&] { order.push_back(10); }));
  auto all = when_all(std::move(fs));
  run_until_ready(loop, all);
  EXPECT_EQ(order, (std::vector<int>{1, 10, 20}));
}

TEST(LoopFutures, WithTimeoutOnTheLoop) {
  EventLoop loop;
  promise<int> never;
  auto late = with_timeout(loop, milliseconds(5), never.get_future());
  EXPECT_THROW(run_until_ready(loop, late), timed_out_error);

  auto quick = with_timeout(loop, std::chrono::seconds(30),
                            sleep(loop, milliseconds(1)).then([] { return 7; }));
  EXPECT_EQ(run_until_ready(loop, quick), 7);
  EXPECT_EQ(loop.next_timer_ms(), -1);  // the 30 s timer was cancelled
}

TEST(LoopFutures, RetryOnTheLoop) {
  EventLoop loop;
  int calls = 0;
  retry_policy pol;
  pol.initial_delay = milliseconds(1);
  pol.max_retries = 4;
  auto f = retry(
      loop,
      [&]() -> int {
        if (++calls < 3) throw std::runtime_error("again");
        return calls;
      },
      pol);
  EXPECT_EQ(run_until_ready(loop, f), 3);
}

TEST(LoopFutures, ReadableAndWritableOnASocketPair) {
  EventLoop loop;
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  AsyncFd a(loop, sv[0]), b(loop, sv[1]);
  std::string got;
  auto reader = b.readable().then([&] {
    char buf[16];
    ssize_t n = ::read(b.fd(), buf, sizeof buf);
    got.assign(buf, n > 0 ? n : 0);
  });
  EXPECT_FALSE(reader.available());
  EXPECT_THROW(b.readable().get(), std::logic_error);  // one read waiter at a time
  auto writer = a.writable().then([&] { return ::write(a.fd(), "ping", 4); });
  EXPECT_EQ(run_until_ready(loop, writer), 4);
  run_until_ready(loop, reader);
  EXPECT_EQ(got, "ping");

  // EOF counts as readable.
  a.close();
  auto eof = b.readable();
  EXPECT_NO_THROW(run_until_ready(loop, eof));
}

TEST(LoopFutures, CloseFailsPendingWaiters) {
  EventLoop loop;
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  AsyncFd a(loop, sv[0]);
  AsyncFd b(loop, sv[1]);
  auto r = b.readable();
  b.close();
  ASSERT_TRUE(r.available());
  try {
    r.get();
    FAIL();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECANCELED);
  }
  loop.run_once(0);  // frees the deferred handler
}

TEST(LoopFutures, ConnectAndAcceptOverLoopback) {
  EventLoop loop;
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(lfd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(lfd, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  AsyncFd listener(loop, lfd);

  auto accepted = accept(listener);  // nobody connecting yet: waits on the loop
  EXPECT_FALSE(accepted.available());
  auto client = connect_tcp(loop, "127.0.0.1", ntohs(addr.sin_port)).then([](AsyncFd s) {
    EXPECT_EQ(::write(s.fd(), "hi", 2), 2);
    return s;
  });
  AsyncFd server = run_until_ready(loop, accepted);
  AsyncFd c = run_until_ready(loop, client);
  auto msg = server.readable().then([&] {
    char buf[8];
    ssize_t n = ::read(server.fd(), buf, sizeof buf);
    return std::string(buf, n > 0 ? n : 0);
  });
  EXPECT_EQ(run_until_ready(loop, msg), "hi");
}

TEST(LoopFutures, WriteAllAndReadSomeMoveAMegabyteThroughAFullBuffer) {
  EventLoop loop;
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  AsyncFd a(loop, sv[0]), b(loop, sv[1]);
  constexpr size_t kBytes = 1 << 20;  // far beyond the socket buffer: write_all must wait
  std::vector<std::byte> out(kBytes);
  for (size_t i = 0; i < kBytes; ++i) out[i] = static_cast<std::byte>(i * 31 % 251);
  auto sent = write_all(a, out);
  EXPECT_FALSE(sent.available());
  std::vector<std::byte> in;
  std::vector<std::byte> buf(64 * 1024);
  // Read until EOF: a loop of read_some calls, each a future.
  auto received = repeat([&] {
    return read_some(b, buf).then([&](size_t n) {
      if (n == 0) return stop_iteration::yes;
      in.insert(in.end(), buf.begin(), buf.begin() + n);
      if (in.size() == kBytes) a.close();  // writer done: the next read sees EOF
      return stop_iteration::no;
    });
  });
  run_until_ready(loop, received);
  EXPECT_NO_THROW(run_until_ready(loop, sent));
  EXPECT_EQ(in, out);

  b.close();
  int sv2[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv2), 0);
  AsyncFd c(loop, sv2[0]);
  ::close(sv2[1]);
  const std::byte one[1] = {std::byte{1}};
  try {
    auto w = write_all(c, one);
    run_until_ready(loop, w);
    FAIL();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EPIPE);  // and no SIGPIPE killed the test
  }
}

TEST(LoopFutures, ConnectRefusedAndBadAddress) {
  EventLoop loop;
  // Bind a port and close it without listening, so the connect is refused.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  auto f = connect_tcp(loop, "127.0.0.1", ntohs(addr.sin_port));
  try {
    run_until_ready(loop, f);
    FAIL();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECONNREFUSED);
  }
  EXPECT_THROW(connect_tcp(loop, "not-an-ip", 80).get(), std::invalid_argument);
}

}  // namespace
}  // namespace fa
