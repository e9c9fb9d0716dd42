// File bodies: WriteQueue file spans (sendfile, the read-and-write fallback, partial writes,
// EAGAIN, a file that shrank) and http::send_file / send_file_body over real sockets.
#include "http/file_body.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "core/write_queue.h"
#include "test_client.h"

namespace fa::http {
namespace {

using fa::testing::connect_to;
using fa::testing::read_response;
using fa::testing::send_all;
using fa::testing::ServerThread;

// A temporary file holding `content`; removed on destruction.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/fa_file_body_XXXXXX";
    int fd = ::mkstemp(name);
    path = name;
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(fd);
  }
  ~TempFile() { ::unlink(path.c_str()); }
  std::shared_ptr<const FileDescriptor> open() const {
    return std::make_shared<const FileDescriptor>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  }
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// Takes `per_call` bytes per call; sendfile like a socket (when `can_sendfile`) or ENOTSUP
// like TLS; EAGAIN every `eagain_every` calls.
class FakeTransport final : public Transport {
 public:
  std::string sent;
  size_t per_call = 1000;
  bool can_sendfile = true;
  int eagain_every = 3;
  int calls = 0;
  int sendfile_calls = 0;

  ssize_t read(char*, size_t) override { return 0; }
  ssize_t writev(const iovec* iov, int count) override {
    if (++calls % eagain_every == 0) {
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
  ssize_t sendfile(int in_fd, off_t* offset, size_t count) override {
    if (!can_sendfile) {
      errno = ENOTSUP;
      return -1;
    }
    ++sendfile_calls;
    if (++calls % eagain_every == 0) {
      errno = EAGAIN;
      return -1;
    }
    std::string buf(std::min(count, per_call), '\0');
    ssize_t r = ::pread(in_fd, buf.data(), buf.size(), *offset);
    if (r > 0) {
      sent.append(buf.data(), static_cast<size_t>(r));
      *offset += r;
    }
    return r;
  }
  void shutdown_write() override {}
};

std::string drain(WriteQueue& q, FakeTransport& t) {
  for (int i = 0; i < 100000 && !q.empty(); ++i) {
    if (q.flush(t) < 0) return "<error>";
  }
  return t.sent;
}

TEST(WriteQueueFile, SpansKeepTheirPlaceBetweenBytesThroughPartialWritesAndEagain) {
  std::string content = pattern(50000);
  TempFile f(content);
  for (bool can : {true, false}) {
    WriteQueue q;
    FakeTransport t;
    t.can_sendfile = can;
    q.append(std::string_view("HEAD\r\n\r\n"));
    q.append_file(FileSpan{f.open(), 100, 20000});
    q.append(std::string_view("--sep--"));
    q.append_file(FileSpan{f.open(), 0, 50000});
    q.append(std::string(20000, 'x'));  // an owned segment after a file span
    size_t expected_size = 8 + 20000 + 7 + 50000 + 20000;
    EXPECT_EQ(q.size(), expected_size);
    std::string want = "HEAD\r\n\r\n" + content.substr(100, 20000) + "--sep--" + content +
                       std::string(20000, 'x');
    EXPECT_EQ(drain(q, t), want) << "can_sendfile=" << can;
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(t.sendfile_calls > 0, can);
  }
}

TEST(WriteQueueFile, AFileThatShrankIsAHardError) {
  TempFile f("short");
  for (bool can : {true, false}) {
    WriteQueue q;
    FakeTransport t;
    t.can_sendfile = can;
    t.eagain_every = 1000;
    q.append_file(FileSpan{f.open(), 0, 100});  // claims more than the file holds
    long rc = 0;
    for (int i = 0; i < 10 && rc >= 0 && !q.empty(); ++i) rc = q.flush(t);
    EXPECT_LT(rc, 0) << "can_sendfile=" << can;
  }
}

size_t open_fds() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (readdir(d)) ++n;
  closedir(d);
  return n;
}

// Whether this process holds a descriptor of `path` (the server under test runs in-process):
// unlike a count of all descriptors, not disturbed by one the test's threads open meanwhile.
bool file_is_open(const std::string& path) {
  bool found = false;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) {
    char target[4096];
    std::string link = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0 && std::string_view(target, static_cast<size_t>(n)) == path) found = true;
  }
  closedir(d);
  return found;
}

TEST(WriteQueueFile, QueueingAFileIgnoresSigpipe) {
  // sendfile(2) has no MSG_NOSIGNAL: with SIGPIPE at its default a client leaving mid-file
  // would kill the server (seen: this binary exiting 141 in AClientLeavingMidFileClosesTheFile).
  TempFile f("abc");
  WriteQueue q;
  q.append_file(FileSpan{f.open(), 0, 3});
  struct sigaction now {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &now), 0);
  EXPECT_TRUE(now.sa_handler == SIG_IGN);
}

TEST(WriteQueueFile, ClearClosesTheFile) {
  TempFile f("abc");
  size_t before = open_fds();
  {
    WriteQueue q;
    q.append_file(FileSpan{f.open(), 0, 3});
    EXPECT_EQ(open_fds(), before + 1);
    q.clear();
    EXPECT_EQ(open_fds(), before);
  }
}

TEST(WriteQueueFile, RealSocketGetsTheBytesWithSendfile) {
  std::string content = pattern(300000);
  TempFile f(content);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  PlainTransport t(sv[0]);
  WriteQueue q;
  q.append(std::string_view("<"));
  q.append_file(FileSpan{f.open(), 0, content.size()});
  q.append(std::string_view(">"));
  std::string got;
  char buf[65536];
  while (!q.empty() || got.size() < content.size() + 2) {
    ASSERT_GE(q.flush(t), 0);
    ssize_t n = ::recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, "<" + content + ">");
  ::close(sv[0]);
  ::close(sv[1]);
}

void file_routes(Server& s, const std::string& path) {
  s.route("GET", "/file", [path](Request&, Response& res) { send_file(res, path, "text/plain"); });
  s.route("HEAD", "/file", [path](Request& req, Response& res) {
    send_file(req, res, path, "text/plain");  // HEAD: the head alone
  });
  s.route("GET", "/missing",
          [](Request&, Response& res) { send_file(res, "/nonexistent/nothing", "text/plain"); });
  s.route("GET", "/dir", [](Request&, Response& res) { send_file(res, "/tmp", "text/plain"); });
  s.route("GET", "/parts", [path](Request&, Response& res) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::vector<BodyPart> parts;
    parts.push_back(BodyPart::text("[["));
    parts.push_back(BodyPart::span(10, 5));
    parts.push_back(BodyPart::text("]["));
    parts.push_back(BodyPart::span(0, 3));
    parts.push_back(BodyPart::text("]]"));
    send_file_body(res.detach(), ResponseHead{206, "text/plain", {}},
                   std::make_shared<const FileDescriptor>(fd), std::move(parts));
  });
}

TEST(SendFile, WholeFileHeadMissingAndPipelined) {
  std::string content = pattern(1 << 20);
  TempFile f(content);
  ServerThread st([&](Server& s) { file_routes(s, f.path); });
  int fd = connect_to(st.port());
  std::string pending;
  // Three pipelined: a file, a HEAD, a file again.
  ASSERT_TRUE(send_all(fd,
                       "GET /file HTTP/1.1\r\nHost: x\r\n\r\n"
                       "HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /parts HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = read_response(fd, pending);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), content.size());
  EXPECT_TRUE(r.body == content);
  EXPECT_EQ(r.header("accept-ranges"), "bytes");
  EXPECT_NE(r.header("last-modified").find("GMT"), std::string::npos);
  auto h = read_response(fd, pending, true);
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(h.header("content-length"), std::to_string(content.size()));
  auto p = read_response(fd, pending);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.status, 206);
  EXPECT_EQ(p.body, "[[" + content.substr(10, 5) + "][" + content.substr(0, 3) + "]]");
  ASSERT_TRUE(send_all(fd, "GET /missing HTTP/1.1\r\nHost: x\r\n\r\nGET /dir HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(read_response(fd, pending).status, 404);
  EXPECT_EQ(read_response(fd, pending).status, 404);
  ::close(fd);
}

TEST(SendFile, AClientLeavingMidFileClosesTheFile) {
  std::string content = pattern(32 << 20);  // far more than the socket buffers hold
  TempFile f(content);
  ServerThread st([&](Server& s) { file_routes(s, f.path); });
  int fd = connect_to(st.port());
  ASSERT_TRUE(send_all(fd, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n"));
  char buf[4096];
  ASSERT_GT(::recv(fd, buf, sizeof buf, 0), 0);  // the response started
  EXPECT_TRUE(file_is_open(f.path));             // the server is sending it
  ::close(fd);
  // The server notices (EPIPE/ECONNRESET on the next sendfile) and drops the span's file.
  // (Checked by path: a count of all descriptors once caught one another thread opened.)
  for (int i = 0; i < 500 && file_is_open(f.path); ++i) usleep(10000);
  EXPECT_FALSE(file_is_open(f.path));
  // And serves the next client.
  int fd2 = connect_to(st.port());
  std::string pending;
  ASSERT_TRUE(send_all(fd2, "GET /parts HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(read_response(fd2, pending).status, 206);
  ::close(fd2);
}

}  // namespace
}  // namespace fa::http
