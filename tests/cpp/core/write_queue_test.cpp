// WriteQueue through a fake Transport: partial writes, EAGAIN, order across coalesced and
// owned segments, hard errors; no allocation per response once drained; take_front (the
// io_uring send's buffer swap).
#include "core/write_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>
#include <string>

// Counts this test executable's heap allocations (each test file is its own executable).
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace fa {
namespace {

// Accepts at most `per_call` bytes per writev; after `budget` calls reports EAGAIN.
class FakeTransport final : public Transport {
 public:
  std::string sent;
  size_t per_call = 7;
  int budget = 1000;
  int calls = 0;
  bool fail = false;

  ssize_t read(char*, size_t) override { return 0; }
  ssize_t writev(const iovec* iov, int count) override {
    ++calls;
    if (fail) {
      errno = ECONNRESET;
      return -1;
    }
    if (budget-- <= 0) {
      errno = EAGAIN;
      return -1;
    }
    size_t left = per_call, n = 0;
    for (int i = 0; i < count && left > 0; ++i) {
      size_t take = std::min(left, iov[i].iov_len);
      sent.append(static_cast<const char*>(iov[i].iov_base), take);
      left -= take;
      n += take;
    }
    return static_cast<ssize_t>(n);
  }
  void shutdown_write() override {}
};

TEST(WriteQueue, PartialWritesKeepOrderAcrossSegments) {
  WriteQueue q;
  std::string big(WriteQueue::kOwnSegmentBytes * 2, 'B');
  q.append(std::string_view("head1|"));
  q.append(std::string(big));  // moved in as its own segment
  q.append(std::string_view("|tail"));
  EXPECT_EQ(q.size(), 6 + big.size() + 5);
  FakeTransport t;
  t.per_call = 1000;
  while (!q.empty()) ASSERT_GE(q.flush(t), 0);
  EXPECT_EQ(t.sent, "head1|" + big + "|tail");
}

TEST(WriteQueue, EagainStopsAndResumesWhereItStopped) {
  WriteQueue q;
  q.append(std::string_view("0123456789abcdefghij"));
  FakeTransport t;
  t.per_call = 3;
  t.budget = 2;
  EXPECT_EQ(q.flush(t), 6);  // two calls of 3 bytes, then EAGAIN
  EXPECT_EQ(q.size(), 14u);
  t.budget = 1000;
  EXPECT_EQ(q.flush(t), 14);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(t.sent, "0123456789abcdefghij");
  q.append(std::string_view("again"));  // reusable after draining
  EXPECT_EQ(q.flush(t), 5);
  EXPECT_EQ(t.sent.substr(20), "again");
}

TEST(WriteQueue, HardErrorIsReported) {
  WriteQueue q;
  q.append(std::string_view("x"));
  FakeTransport t;
  t.fail = true;
  EXPECT_EQ(q.flush(t), -1);
  EXPECT_EQ(errno, ECONNRESET);
}

// A keep-alive connection's steady state: responses queued and written whole, over and over.
// After the first, the drained buffer is reused: no allocation per response.
TEST(WriteQueue, DrainedQueueReusesItsBufferWithoutAllocating) {
  WriteQueue q;
  FakeTransport t;
  t.per_call = 1 << 20;
  t.sent.reserve(64 * 1024);
  const std::string_view head = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n";
  for (int warm = 0; warm < 2; ++warm) {  // the buffer grows to a batch's size once
    for (int pipelined = 0; pipelined < 4; ++pipelined) {
      q.append(head);
      q.append(std::string_view("Hello, World!"));
    }
    ASSERT_GT(q.flush(t), 0);
  }
  long before = g_allocations.load();
  for (int i = 0; i < 100; ++i) {
    for (int pipelined = 0; pipelined < 4; ++pipelined) {
      q.append(head);
      q.append(std::string_view("Hello, World!"));
    }
    ASSERT_GT(q.flush(t), 0);
    ASSERT_TRUE(q.empty());
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(t.sent.size(), (2 + 100) * 4 * (head.size() + 13));
}

// take_front: the queue's buffer itself becomes the send's, and the previous send's buffer
// comes back as the one to fill: two buffers trade places, nothing is copied or allocated.
TEST(WriteQueue, TakeFrontSwapsBuffersWithoutCopying) {
  WriteQueue q;
  std::string inflight;
  const std::string first(40, '1'), second(40, '2'), third(40, '3');  // on the heap
  q.append(std::string_view(first));
  ASSERT_TRUE(q.take_front(inflight));
  EXPECT_EQ(inflight, first);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  const char* a = inflight.data();
  q.append(std::string_view(second));
  long before = g_allocations.load();
  ASSERT_TRUE(q.take_front(inflight));
  EXPECT_EQ(inflight, second);
  EXPECT_NE(inflight.data(), a);
  q.append(std::string_view(third));
  ASSERT_TRUE(q.take_front(inflight));
  EXPECT_EQ(inflight.data(), a);  // the first send's buffer, filled again
  EXPECT_EQ(inflight, third);
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_FALSE(q.take_front(inflight));  // nothing queued
}

// What take_front refuses, so the caller copies instead: small bytes with more bytes after them
// (one send rather than two), a partly written front (the send must start at its offset).
TEST(WriteQueue, TakeFrontRefusesSmallBytesBeforeMoreAndPartlyWrittenFronts) {
  WriteQueue q;
  std::string big(WriteQueue::kOwnSegmentBytes, 'B');
  q.append(std::string_view("head|"));
  q.append(std::string(big));
  q.append(std::string_view("|tail"));
  std::string spare;
  EXPECT_FALSE(q.take_front(spare));
  FakeTransport t;
  t.per_call = 5;
  t.budget = 1;
  ASSERT_EQ(q.flush(t), 5);  // "head|" written: the big segment is the front now, whole
  ASSERT_TRUE(q.take_front(spare));
  EXPECT_EQ(spare, big);
  EXPECT_EQ(q.size(), 5u);
  ASSERT_TRUE(q.take_front(spare));  // "|tail" is alone now
  EXPECT_EQ(spare, "|tail");
  EXPECT_TRUE(q.empty());

  q.append(std::string_view("0123456789"));
  t.per_call = 4;
  t.budget = 1;
  ASSERT_EQ(q.flush(t), 4);
  EXPECT_FALSE(q.take_front(spare));  // partly written: flush() sends the rest
  t.budget = 10;
  EXPECT_EQ(q.flush(t), 6);
  EXPECT_EQ(t.sent, "head|0123456789");
}

// A buffer grown by a large response is not kept once drained (an idle connection holds little).
TEST(WriteQueue, LargeDrainedBufferIsReleased) {
  WriteQueue q;
  FakeTransport t;
  t.per_call = 1 << 22;
  std::string chunk(4096, 'x');
  for (int i = 0; i < 10; ++i) q.append(std::string_view(chunk));  // coalesced: 40 KiB
  ASSERT_EQ(q.flush(t), 40960);
  std::string spare;
  q.append(std::string_view("a small response after it, on the heap"));
  ASSERT_TRUE(q.take_front(spare));
  EXPECT_LE(spare.capacity(), WriteQueue::kKeptCapacity);
}

}  // namespace
}  // namespace fa
