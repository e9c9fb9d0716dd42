// Tests for EventLoop: fd readiness, timers (order, cancel), deferred tasks.
#include "core/event_loop.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace fa {
namespace {

using namespace std::chrono_literals;

struct Recorder : IoHandler {
  std::vector<uint32_t> events;
  void on_io(uint32_t ev) override { events.push_back(ev); }
};

TEST(EventLoop, ReportsReadableSocket) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  EventLoop loop;
  Recorder rec;
  ASSERT_TRUE(loop.add(sv[0], EPOLLIN, &rec));
  EXPECT_EQ(loop.run_once(0), 0);
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  EXPECT_EQ(loop.run_once(1000), 1);
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_TRUE(rec.events[0] & EPOLLIN);
  loop.remove(sv[0]);
  ASSERT_EQ(write(sv[1], "y", 1), 1);
  EXPECT_EQ(loop.run_once(0), 0);
  close(sv[0]);
  close(sv[1]);
}

TEST(EventLoop, TimersFireInDeadlineOrderAndCancelWorks) {
  EventLoop loop;
  std::vector<int> order;
  loop.call_later(20ms, [&] { order.push_back(2); });
  loop.call_later(5ms, [&] { order.push_back(1); });
  TimerId gone = loop.call_later(10ms, [&] { order.push_back(99); });
  EXPECT_TRUE(loop.cancel(gone));
  EXPECT_FALSE(loop.cancel(gone));
  loop.call_later(30ms, [&] {
    order.push_back(3);
    loop.stop();
  });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(loop.next_timer_ms(), -1);
}

// A per-call timeout is armed and then cancelled by the answer long before its deadline: at a
// high call rate the cancelled entries must not pile up in the heap until their deadlines pass,
// and the live timers among them must still fire, in order.
TEST(EventLoop, CancelledTimersDoNotAccumulate) {
  EventLoop loop;
  std::vector<int> order;
  loop.call_later(20ms, [&] { order.push_back(2); });
  loop.call_later(5ms, [&] { order.push_back(1); });
  size_t most = 0;
  for (int i = 0; i < 100000; ++i) {
    TimerId t = loop.call_later(30s, [&] { order.push_back(99); });
    EXPECT_TRUE(loop.cancel(t));
    most = std::max(most, loop.timer_heap_size());
  }
  EXPECT_LE(most, 200u);  // 2 live timers: a bounded slack, not 100000 entries
  // Some calls still in flight: their timers are kept.
  std::vector<TimerId> live;
  for (int i = 0; i < 1000; ++i) live.push_back(loop.call_later(30s, [] {}));
  for (int i = 0; i < 100000; ++i) EXPECT_TRUE(loop.cancel(loop.call_later(30s, [] {})));
  EXPECT_LE(loop.timer_heap_size(), 1002u * 2 + 200u);
  for (TimerId t : live) EXPECT_TRUE(loop.cancel(t));
  loop.call_later(30ms, [&] {
    order.push_back(3);
    loop.stop();
  });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(loop.next_timer_ms(), -1);
}

TEST(EventLoop, TimerAddedFromTimerRuns) {
  EventLoop loop;
  int fired = 0;
  loop.call_later(1ms, [&] {
    ++fired;
    loop.call_later(1ms, [&] {
      ++fired;
      loop.stop();
    });
  });
  loop.run();
  EXPECT_EQ(fired, 2);
}

TEST(EventLoop, DeferredRunsNextIterationAndDoesNotStarve) {
  EventLoop loop;
  int runs = 0;
  std::function<void()> again = [&] {
    if (++runs < 3) loop.defer(again);
  };
  loop.defer(again);
  loop.run_once(-1);  // must not block: deferred work pending
  EXPECT_EQ(runs, 1);
  loop.run_once(-1);
  loop.run_once(-1);
  EXPECT_EQ(runs, 3);
  EXPECT_FALSE(loop.has_pending_work());
}

bool fd_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

// An embedder (asyncio) only runs the loop when fd() is readable: work deferred from outside
// run_once (a Python Task finishing a response) must make it readable, or it waits for the
// next unrelated event.
TEST(EventLoop, DeferFromOutsideRunOnceMakesFdReadable) {
  EventLoop loop;
  EXPECT_FALSE(fd_readable(loop.fd()));
  bool ran = false;
  loop.defer([&] { ran = true; });
  EXPECT_TRUE(fd_readable(loop.fd()));
  loop.run_once(0);
  EXPECT_TRUE(ran);
  EXPECT_FALSE(fd_readable(loop.fd()));
}

TEST(EventLoop, WorkDeferredByDeferredWorkKeepsFdReadable) {
  EventLoop loop;
  int runs = 0;
  std::function<void()> again = [&] {
    if (++runs < 2) loop.defer(again);
  };
  loop.defer(again);
  loop.run_once(0);
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(fd_readable(loop.fd()));  // the re-deferred task still needs an iteration
  loop.run_once(0);
  EXPECT_EQ(runs, 2);
  EXPECT_FALSE(fd_readable(loop.fd()));
}

TEST(EventLoop, DeferInsideIterationDoesNotWake) {
  Recorder rec;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  EventLoop loop;
  struct Deferring : IoHandler {
    EventLoop* loop;
    int fd;
    bool ran = false;
    void on_io(uint32_t) override {
      char c;
      [[maybe_unused]] auto n = ::read(fd, &c, 1);
      loop->defer([this] { ran = true; });
    }
  } h;
  h.loop = &loop;
  h.fd = sv[0];
  ASSERT_TRUE(loop.add(sv[0], EPOLLIN, &h));
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  loop.run_once(0);
  EXPECT_TRUE(h.ran);  // ran in the same iteration
  EXPECT_FALSE(fd_readable(loop.fd()));
  close(sv[0]);
  close(sv[1]);
}

}  // namespace
}  // namespace fa
