// UringRing implementation on liburing. Every SQE's user_data carries a 3-bit tag in its low
// bits (pointers and ids are shifted or 8-aligned), so one completion loop serves watchers,
// accepts, recvs, sends and wake-ups.
#include "core/uring_ring.h"

#ifdef FA_HAVE_URING

#include <liburing.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"

namespace fa {

namespace {
constexpr unsigned kSqEntries = 4096;
constexpr unsigned kCqEntries = 16384;  // multishot ops post many completions per SQE
// Provided buffers (a power of two). The kernel takes them in ring order, so under load every
// one of them becomes resident: count x size is the pool's RSS (4 MiB). Many small buffers
// rather than a few large ones: a completion per buffer is the cost, and a request batch or a
// body chunk rarely needs more than one. The count covers one arrival per connection between
// two dispatches at the 1MRC's 1,000 connections (and TFB's 512): when they run out, a recv
// ends with -ENOBUFS and is re-armed, an extra completion, submission and poll arm for that
// request (with 512, 23% of a 1MRC run's requests paid it: perf stat -e
// io_uring:io_uring_submit_req counted 125,485 submissions for 100,000 requests).
constexpr unsigned kBufCount = 1024;
constexpr unsigned kBufSize = 4 * 1024;
constexpr int kBufGroup = 0;
constexpr unsigned kBatch = 512;  // completions dispatched per run()

enum Tag : uint64_t {
  kTagPoll = 1,
  kTagIgnore = 2,  // poll removals, cancellations
  kTagRecv = UringCompletion::kRecv,
  kTagSend = UringCompletion::kSend,
  kTagAccept = 5,
  kTagWake = 6,
};
constexpr uint64_t kTagMask = 7;
constexpr uint32_t kGenMask = (1u << 29) - 1;

uint64_t poll_ud(int fd, uint32_t gen) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(fd)) << 32) | (uint64_t{gen} << 3) | kTagPoll;
}

// Multishot recv needs 6.0, multishot accept 5.19, provided-buffer rings 5.19.
bool kernel_at_least(int major, int minor) {
  utsname u{};
  if (uname(&u) != 0) return false;
  int ma = 0, mi = 0;
  if (std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}
}  // namespace

struct UringRing::Impl {
  struct Watch {
    IoHandler* handler;
    uint32_t events;
    uint32_t gen;
    bool armed;
  };
  struct Done {
    uint64_t ud;
    int res;
    uint32_t flags;
  };

  io_uring ring{};
  bool ring_ok = false;  // io_uring_queue_exit only for a ring that was set up
  io_uring_buf_ring* br = nullptr;
  size_t br_bytes = 0;
  char* bufs = nullptr;
  int recycled = 0;  // buffers added back since the last advance
  std::unordered_map<int, Watch> watches;
  std::unordered_map<uint64_t, AcceptFn> accepts;
  uint64_t next_accept = 1;
  uint32_t next_gen = 1;
  int dispatching_fd = -1;
  bool wake_pending = false;
  std::vector<Done> done;
  std::vector<UringCompletion*> posted, posted_running;

  ~Impl() {
    if (ring_ok) io_uring_queue_exit(&ring);
    if (br) munmap(br, br_bytes);
    if (bufs) munmap(bufs, size_t{kBufCount} * kBufSize);
  }

  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    if (!s) {
      io_uring_submit(&ring);  // the SQ is full: make room
      s = io_uring_get_sqe(&ring);
      if (!s) throw std::system_error(EBUSY, std::generic_category(), "UringRing: no SQE");
    }
    return s;
  }

  void arm(int fd, Watch& w) {
    io_uring_sqe* s = sqe();
    io_uring_prep_poll_add(s, fd, w.events);
    io_uring_sqe_set_data64(s, poll_ud(fd, w.gen));
    w.armed = true;
  }

  void disarm(int fd, Watch& w) {
    io_uring_sqe* s = sqe();
    io_uring_prep_poll_remove(s, poll_ud(fd, w.gen));
    io_uring_sqe_set_data64(s, kTagIgnore);
    w.armed = false;
  }

  void recycle(unsigned bid) {
    io_uring_buf_ring_add(br, bufs + size_t{bid} * kBufSize, kBufSize,
                          static_cast<unsigned short>(bid), io_uring_buf_ring_mask(kBufCount),
                          recycled++);
  }

  // True when a handler was called.
  bool dispatch_poll(const Done& d) {
    int fd = static_cast<int>(d.ud >> 32);
    uint32_t gen = static_cast<uint32_t>(d.ud >> 3) & kGenMask;
    auto it = watches.find(fd);
    if (it == watches.end() || it->second.gen != gen) return false;  // removed or re-armed since
    it->second.armed = false;
    if (d.res == -ECANCELED) return false;
    if (d.res == -EBADF) {  // closed without unwatch: nothing left to tell
      watches.erase(it);
      return false;
    }
    IoHandler* h = it->second.handler;
    uint32_t events = d.res < 0 ? static_cast<uint32_t>(EPOLLERR) : static_cast<uint32_t>(d.res);
    dispatching_fd = fd;
    h->on_io(events);
    dispatching_fd = -1;
    // The handler may have removed, re-added or modified it, or closed the fd and watched a new
    // one that got the same number (a failed connect retried at once): a watcher whose poll is
    // not armed, whichever it is, is armed now (rewatch() of dispatching_fd left that to here).
    it = watches.find(fd);
    if (it != watches.end() && !it->second.armed) arm(fd, it->second);
    return true;
  }

  bool dispatch_accept(const Done& d) {
    uint64_t id = d.ud >> 3;
    bool more = d.flags & IORING_CQE_F_MORE;
    auto it = accepts.find(id);
    if (it == accepts.end()) {  // cancelled: a connection accepted meanwhile is not wanted
      if (d.res >= 0) ::close(d.res);
      return false;
    }
    AcceptFn fn = more ? it->second : std::move(it->second);
    if (!more) accepts.erase(it);
    fn(d.res, more);
    return true;
  }
};

std::unique_ptr<UringRing> UringRing::create(std::string* why) {
  auto fail = [why](std::string reason) -> std::unique_ptr<UringRing> {
    if (why) *why = std::move(reason);
    return nullptr;
  };
  if (!kernel_at_least(6, 0)) return fail("kernel older than 6.0 (multishot recv)");
  auto impl = std::make_unique<Impl>();
  io_uring_params p{};
  // COOP_TASKRUN: the kernel does not interrupt the loop (an IPI, then the signal path on
  // the way back to user space) to run the task work of a completion (a multishot recv's data,
  // a poll firing); it runs at the loop's next system call, batched. A sleeping loop is still
  // woken, so embedders polling fd() see completions as before. TASKRUN_FLAG marks pending
  // task work in the SQ ring's flags, so a wait(0) that makes no system call still collects
  // it (liburing's peek enters the kernel then). Both since 5.19; refused: the plain ring.
  constexpr unsigned kBase = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  int rc = -EINVAL;
  for (unsigned flags : {kBase | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, kBase}) {
    p = io_uring_params{};
    p.flags = flags;
    p.cq_entries = kCqEntries;
    rc = io_uring_queue_init_params(kSqEntries, &impl->ring, &p);
    if (rc != -EINVAL) break;
  }
  if (rc < 0) return fail(std::string("io_uring_queue_init: ") + std::strerror(-rc));
  impl->ring_ok = true;
  if (!(p.features & IORING_FEAT_EXT_ARG) || !(p.features & IORING_FEAT_FAST_POLL))
    return fail("io_uring lacks EXT_ARG or FAST_POLL");
  impl->br_bytes = kBufCount * sizeof(io_uring_buf);
  void* mem =
      mmap(nullptr, impl->br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return fail(std::string("mmap: ") + std::strerror(errno));
  impl->br = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(impl->br);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(mem);
  reg.ring_entries = kBufCount;
  reg.bgid = kBufGroup;
  if (int rc = io_uring_register_buf_ring(&impl->ring, &reg, 0); rc < 0)
    return fail(std::string("io_uring_register_buf_ring: ") + std::strerror(-rc));
  // Populated now: the kernel fills the buffers in ring order, so any sustained traffic (one
  // 10 MB upload) makes all of them resident; committing the pool up front makes it a fixed
  // cost of the ring rather than RSS that grows under the first large request.
  void* bufs = mmap(nullptr, size_t{kBufCount} * kBufSize, PROT_READ | PROT_WRITE,
                    MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
  if (bufs == MAP_FAILED) return fail(std::string("mmap: ") + std::strerror(errno));
  impl->bufs = static_cast<char*>(bufs);
  for (unsigned i = 0; i < kBufCount; ++i) impl->recycle(i);
  io_uring_buf_ring_advance(impl->br, impl->recycled);
  impl->recycled = 0;
  impl->done.resize(kBatch);
  return std::unique_ptr<UringRing>(new UringRing(std::move(impl)));
}

UringRing::UringRing(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UringRing::~UringRing() = default;

int UringRing::fd() const {
  return impl_->ring.ring_fd;
}

void UringRing::queued() {
  if (!in_run_) io_uring_submit(&impl_->ring);
}

bool UringRing::watch(int fd, uint32_t events, IoHandler* handler) {
  if (impl_->watches.count(fd)) {
    errno = EEXIST;
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;  // EBADF
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    errno = EPERM;  // as epoll_ctl: files are always ready, there is nothing to wait for
    return false;
  }
  auto& w = impl_->watches[fd];
  w = Impl::Watch{handler, events, impl_->next_gen++ & kGenMask, false};
  impl_->arm(fd, w);
  queued();
  return true;
}

bool UringRing::rewatch(int fd, uint32_t events, IoHandler* handler) {
  auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) {
    errno = ENOENT;
    return false;
  }
  Impl::Watch& w = it->second;
  w.handler = handler;
  if (w.events == events && (w.armed || impl_->dispatching_fd == fd)) return true;
  w.events = events;
  if (w.armed) {
    impl_->disarm(fd, w);
    w.gen = impl_->next_gen++ & kGenMask;
  }
  // While its own event is being dispatched, the watcher is re-armed after the handler returns.
  if (impl_->dispatching_fd != fd) impl_->arm(fd, w);
  queued();
  return true;
}

void UringRing::unwatch(int fd) {
  auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) return;
  if (it->second.armed) {
    impl_->disarm(fd, it->second);
    queued();
  }
  impl_->watches.erase(it);
}

uint64_t UringRing::accept_multishot(int fd, AcceptFn fn) {
  uint64_t id = impl_->next_accept++;
  impl_->accepts.emplace(id, std::move(fn));
  io_uring_sqe* s = impl_->sqe();
  io_uring_prep_multishot_accept(s, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  io_uring_sqe_set_data64(s, (id << 3) | kTagAccept);
  queued();
  return id;
}

void UringRing::cancel_accept(uint64_t id) {
  if (!impl_->accepts.erase(id)) return;
  io_uring_sqe* s = impl_->sqe();
  io_uring_prep_cancel64(s, (id << 3) | kTagAccept, 0);
  io_uring_sqe_set_data64(s, kTagIgnore);
  io_uring_submit(&impl_->ring);  // before the caller closes the listening socket
}

void UringRing::recv_multishot(int fd, UringCompletion* target) {
  io_uring_sqe* s = impl_->sqe();
  io_uring_prep_recv_multishot(s, fd, nullptr, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = kBufGroup;
  io_uring_sqe_set_data64(s, reinterpret_cast<uint64_t>(target) | kTagRecv);
  queued();
}

void UringRing::cancel_recv(UringCompletion* target) {
  io_uring_sqe* s = impl_->sqe();
  io_uring_prep_cancel64(s, reinterpret_cast<uint64_t>(target) | kTagRecv, 0);
  io_uring_sqe_set_data64(s, kTagIgnore);
  queued();
}

void UringRing::send(int fd, const char* data, size_t len, UringCompletion* target) {
  io_uring_sqe* s = impl_->sqe();
  io_uring_prep_send(s, fd, data, len, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(s, reinterpret_cast<uint64_t>(target) | kTagSend);
  queued();
}

void UringRing::post(UringCompletion* target) {
  impl_->posted.push_back(target);
  if (!in_run_) wake();  // an embedder's wait on fd() must end for it
}

bool UringRing::has_posted() const {
  return !impl_->posted.empty();
}

void UringRing::cancel_fd(int fd) {
  io_uring_sqe* s = impl_->sqe();
  io_uring_prep_cancel_fd(s, fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(s, kTagIgnore);
  io_uring_submit(&impl_->ring);  // the cancel names the fd: it must be in before close(fd)
}

void UringRing::wake() {
  if (impl_->wake_pending) return;
  impl_->wake_pending = true;
  io_uring_sqe* s = impl_->sqe();
  io_uring_prep_nop(s);
  io_uring_sqe_set_data64(s, kTagWake);
  io_uring_submit(&impl_->ring);
}

void UringRing::wait(int wait_ms) {
  Impl& im = *impl_;
  if (wait_ms != 0) {
    int rc;
    if (wait_ms < 0) {
      rc = io_uring_submit_and_wait(&im.ring, 1);
    } else {
      __kernel_timespec ts{};
      ts.tv_sec = wait_ms / 1000;
      ts.tv_nsec = static_cast<long long>(wait_ms % 1000) * 1000000;
      io_uring_cqe* cqe = nullptr;
      rc = io_uring_submit_and_wait_timeout(&im.ring, &cqe, 1, &ts, nullptr);
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
      throw std::system_error(-rc, std::generic_category(), "EventLoop: io_uring_enter");
  }
}

int UringRing::dispatch() {
  Impl& im = *impl_;
  // Copy the batch out and free the CQ first: handlers queue SQEs whose completions need room.
  io_uring_cqe* cqes[kBatch];
  unsigned n = io_uring_peek_batch_cqe(&im.ring, cqes, kBatch);
  for (unsigned i = 0; i < n; ++i)
    im.done[i] = Impl::Done{cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
  io_uring_cq_advance(&im.ring, n);
  int handled = 0;  // completions that reached a handler (removals and wake-ups do not count)
  for (unsigned i = 0; i < n; ++i) {
    const Impl::Done& d = im.done[i];
    switch (d.ud & kTagMask) {
      case kTagPoll:
        handled += im.dispatch_poll(d);
        break;
      case kTagRecv: {
        auto* t = reinterpret_cast<UringCompletion*>(d.ud & ~kTagMask);
        const char* data = nullptr;
        unsigned bid = 0;
        bool has_buf = d.flags & IORING_CQE_F_BUFFER;
        if (has_buf) {
          bid = d.flags >> IORING_CQE_BUFFER_SHIFT;
          data = im.bufs + size_t{bid} * kBufSize;
        }
        t->on_uring(UringCompletion::kRecv, d.res, d.flags & IORING_CQE_F_MORE, data);
        if (has_buf) im.recycle(bid);
        ++handled;
        break;
      }
      case kTagSend:
        reinterpret_cast<UringCompletion*>(d.ud & ~kTagMask)
            ->on_uring(UringCompletion::kSend, d.res, false, nullptr);
        ++handled;
        break;
      case kTagAccept:
        handled += im.dispatch_accept(d);
        break;
      case kTagWake:
        im.wake_pending = false;
        break;
      default:
        break;
    }
  }
  if (im.recycled) {
    io_uring_buf_ring_advance(im.br, im.recycled);
    im.recycled = 0;
  }
  // Posted while these run go to the next dispatch (as deferred tasks do).
  im.posted_running.swap(im.posted);
  for (UringCompletion* t : im.posted_running)
    t->on_uring(UringCompletion::kPosted, 0, false, nullptr);
  handled += static_cast<int>(im.posted_running.size());
  im.posted_running.clear();
  return handled;
}

void UringRing::submit_pending() {
  if (io_uring_sq_ready(&impl_->ring) > 0) io_uring_submit(&impl_->ring);
}

}  // namespace fa

#else  // no liburing at build time: the backend is never available

namespace fa {
struct UringRing::Impl {};
std::unique_ptr<UringRing> UringRing::create(std::string* why) {
  if (why) *why = "built without liburing";
  return nullptr;
}
UringRing::UringRing(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UringRing::~UringRing() = default;
int UringRing::fd() const {
  return -1;
}
void UringRing::queued() {}
bool UringRing::watch(int, uint32_t, IoHandler*) {
  return false;
}
bool UringRing::rewatch(int, uint32_t, IoHandler*) {
  return false;
}
void UringRing::unwatch(int) {}
uint64_t UringRing::accept_multishot(int, AcceptFn) {
  return 0;
}
void UringRing::cancel_accept(uint64_t) {}
void UringRing::recv_multishot(int, UringCompletion*) {}
void UringRing::cancel_recv(UringCompletion*) {}
void UringRing::send(int, const char*, size_t, UringCompletion*) {}
void UringRing::post(UringCompletion*) {}
bool UringRing::has_posted() const {
  return false;
}
void UringRing::cancel_fd(int) {}
void UringRing::wake() {}
void UringRing::wait(int) {}
int UringRing::dispatch() {
  return 0;
}
void UringRing::submit_pending() {}
}  // namespace fa

#endif
