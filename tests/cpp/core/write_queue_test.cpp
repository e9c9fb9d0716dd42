// WriteQueue through a fake Transport: partial writes, EAGAIN, order across coalesced and
// owned segments, hard errors.
#include "core/write_queue.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

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

}  // namespace
}  // namespace fa
