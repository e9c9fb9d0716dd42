// EventLoop implementation: epoll (or io_uring) + a min-heap of timer ids + a deferred-task
// queue.
#include "core/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

#include "core/log.h"
#include "core/uring_ring.h"

namespace fa {

namespace {
constexpr int kMaxEventsPerWait = 256;  // events per epoll_wait; more wait for the next iteration
}  // namespace

class EventLoop::Waker final : public IoHandler {
 public:
  Waker() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "EventLoop: eventfd");
  }
  ~Waker() override { ::close(fd_); }
  int fd() const { return fd_; }
  void signal() {
    if (signalled_) return;  // one write until it is read back: no syscall per defer
    signalled_ = true;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
  }
  void on_io(uint32_t) override {
    uint64_t v;
    [[maybe_unused]] ssize_t n = ::read(fd_, &v, sizeof v);
    signalled_ = false;
  }

 private:
  int fd_;
  bool signalled_ = false;
};

bool parse_loop_backend(std::string_view name, LoopBackend* out) {
  if (name == "epoll") {
    *out = LoopBackend::kEpoll;
  } else if (name == "uring" || name == "io_uring") {
    *out = LoopBackend::kUring;
  } else if (name == "auto") {
    *out = LoopBackend::kAuto;
  } else {
    return false;
  }
  return true;
}

const char* loop_backend_name(LoopBackend b) {
  switch (b) {
    case LoopBackend::kEpoll:
      return "epoll";
    case LoopBackend::kUring:
      return "uring";
    case LoopBackend::kAuto:
      return "auto";
  }
  return "epoll";
}

LoopBackend default_loop_backend() {
  LoopBackend b = LoopBackend::kEpoll;
  if (const char* env = std::getenv("FASTERAPI_LOOP");
      env && *env && !parse_loop_backend(env, &b)) {
    FA_LOG(LogLevel::kWarning, "FASTERAPI_LOOP=%s is not epoll, uring or auto; using epoll", env);
    b = LoopBackend::kEpoll;
  }
  return b;
}

EventLoop::EventLoop() : EventLoop(default_loop_backend()) {}

EventLoop::EventLoop(LoopBackend backend) : now_(Clock::now()) {
  if (backend != LoopBackend::kEpoll) {
    std::string why;
    uring_ = UringRing::create(&why);
    if (uring_) {
      epfd_ = uring_->fd();
      return;  // no eventfd: wake() posts a NOP completion instead
    }
    // Explicitly asked for: say so loudly; auto: quietly (an old kernel is not a problem).
    FA_LOG(backend == LoopBackend::kUring ? LogLevel::kWarning : LogLevel::kInfo,
           "io_uring unavailable (%s); using epoll", why.c_str());
  }
  events_.resize(kMaxEventsPerWait);
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0)
    throw std::system_error(errno, std::generic_category(), "EventLoop: epoll_create1");
  waker_ = std::make_unique<Waker>();
  if (!add(waker_->fd(), EPOLLIN, waker_.get())) {
    int err = errno;
    ::close(epfd_);
    throw std::system_error(err, std::generic_category(), "EventLoop: epoll_ctl(eventfd)");
  }
}

EventLoop::~EventLoop() {
  if (uring_) {
    // Completions still due (the cancelled ops of closed connections) keep their targets
    // alive: deliver them so those let go; what they defer is destroyed below.
    uring_->set_in_run(true);
    for (int round = 0; round < 16; ++round) {
      uring_->wait(round == 0 ? 0 : 1);
      if (uring_->dispatch() == 0 && round > 0) break;
    }
    uring_->set_in_run(false);
  }
  // Destroy the pending callbacks while the loop is still whole: what they capture may call
  // back into it from a destructor (remove an fd, defer a task). A few rounds, since those
  // calls can queue new callbacks.
  for (int round = 0; round < 4 && (!timer_fns_.empty() || !deferred_.empty()); ++round) {
    auto timers = std::move(timer_fns_);
    timer_fns_.clear();
    timers.clear();
    auto deferred = std::move(deferred_);
    deferred_.clear();
    deferred.clear();
  }
  deferred_running_.clear();
  if (epfd_ >= 0 && !uring_) ::close(epfd_);  // the ring closes its own fd
}

void EventLoop::wake() {
  if (uring_) {
    uring_->wake();
    return;
  }
  waker_->signal();
}

bool EventLoop::add(int fd, uint32_t events, IoHandler* handler) {
  if (uring_) return uring_->watch(fd, events, handler);
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
  if (uring_) return uring_->rewatch(fd, events, handler);
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) {
  if (uring_) {
    uring_->unwatch(fd);
    return;
  }
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

TimerId EventLoop::call_later(Duration delay, std::function<void()> fn) {
  return call_at(Clock::now() + delay, std::move(fn));
}

TimerId EventLoop::call_at(TimePoint when, std::function<void()> fn) {
  TimerId id = next_timer_id_++;
  timer_fns_.emplace(id, std::move(fn));
  timer_heap_.push_back(TimerEntry{when, id});
  std::push_heap(timer_heap_.begin(), timer_heap_.end(), TimerLater{});
  return id;
}

bool EventLoop::cancel(TimerId id) {
  if (timer_fns_.erase(id) == 0) return false;
  // A cancelled id stays in the heap until it is popped, which for a per-call timeout cancelled
  // by its answer is a whole timeout away: at a high call rate the heap would hold every call of
  // the last 30 s. Once cancelled entries outnumber live ones, rebuild it from the live ones
  // (O(n), at most once per n/2 cancels: amortised O(1)).
  if (timer_heap_.size() > kTimerHeapSlack + 2 * timer_fns_.size()) {
    std::erase_if(timer_heap_, [this](const TimerEntry& e) { return !timer_fns_.count(e.id); });
    std::make_heap(timer_heap_.begin(), timer_heap_.end(), TimerLater{});
  }
  return true;
}

void EventLoop::defer(std::function<void()> fn) {
  deferred_.push_back(std::move(fn));
  if (!in_run_) wake();
}

int EventLoop::next_timer_ms() const {
  if (timer_fns_.empty()) return -1;
  // The heap top may be a cancelled id; its deadline is still a safe (early) wake-up.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(timer_heap_.front().when - Clock::now());
  int64_t v = ms.count();
  return v < 0 ? 0 : static_cast<int>(std::min<int64_t>(v, 1 << 30));
}

bool EventLoop::has_pending_work() const {
  return !deferred_.empty() || (uring_ && uring_->has_posted());
}

void EventLoop::fire_timers() {
  while (!timer_heap_.empty() && timer_heap_.front().when <= now_) {
    std::pop_heap(timer_heap_.begin(), timer_heap_.end(), TimerLater{});
    TimerId id = timer_heap_.back().id;
    timer_heap_.pop_back();
    auto it = timer_fns_.find(id);
    if (it == timer_fns_.end()) continue;  // cancelled
    auto fn = std::move(it->second);
    timer_fns_.erase(it);
    fn();  // may add or cancel timers: the heap is consistent here
  }
  // Drop cancelled entries at the top so next_timer_ms() stays accurate.
  while (!timer_heap_.empty() && !timer_fns_.count(timer_heap_.front().id)) {
    std::pop_heap(timer_heap_.begin(), timer_heap_.end(), TimerLater{});
    timer_heap_.pop_back();
  }
}

void EventLoop::run_deferred() {
  // Tasks deferred while running go to the next iteration, so a task that re-defers cannot
  // starve I/O.
  deferred_running_.swap(deferred_);
  for (auto& fn : deferred_running_) fn();
  deferred_running_.clear();
}

int EventLoop::run_once(int timeout_ms) {
  if (!deferred_.empty() || (uring_ && uring_->has_posted())) timeout_ms = 0;
  if (timeout_ms != 0) {
    int t = next_timer_ms();
    if (t >= 0 && (timeout_ms < 0 || t < timeout_ms)) timeout_ms = t;
  }
  if (uring_) return run_uring(timeout_ms, true);
  int n = epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  update_now();
  if (n < 0) {
    if (errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "EventLoop: epoll_wait");
    n = 0;
  }
  {
    struct InRun {  // reset even if a handler throws
      bool& flag;
      explicit InRun(bool& f) : flag(f) { flag = true; }
      ~InRun() { flag = false; }
    } in_run(in_run_);
    for (int i = 0; i < n; ++i)
      static_cast<IoHandler*>(events_[i].data.ptr)->on_io(events_[i].events);
    fire_timers();
    run_deferred();
  }
  // Tasks deferred by deferred tasks run next iteration: an embedder must come back for them.
  if (!deferred_.empty()) wake();
  return n;
}

int EventLoop::run_uring(int timeout_ms, bool submit_at_end) {
  // The wait submits what the last iteration left queued. run_once submits what this
  // iteration queued before it returns (its caller may block elsewhere next: an embedder's
  // wait on fd(), a test's client), so an embedded iteration costs one io_uring_enter, and
  // none when it queued nothing. run() leaves it for the next iteration's wait: one enter per
  // iteration that both submits and waits.
  uring_->wait(timeout_ms);
  update_now();
  int n;
  {
    struct InRun {  // reset even if a handler throws
      bool& flag;
      UringRing& ring;
      InRun(bool& f, UringRing& r) : flag(f), ring(r) {
        flag = true;
        ring.set_in_run(true);
      }
      ~InRun() {
        flag = false;
        ring.set_in_run(false);
      }
    } in_run(in_run_, *uring_);
    n = uring_->dispatch();
    fire_timers();
    // Deferred tasks run "after the response has been flushed" (done callbacks, generator
    // dependencies' cleanup): what the handlers queued goes to the kernel first, as the epoll
    // path's send(2) would have. Without deferred work (the hot path) this costs nothing.
    if (!deferred_.empty()) uring_->submit_pending();
    run_deferred();
  }
  if (!deferred_.empty() || uring_->has_posted()) wake();
  if (submit_at_end) uring_->submit_pending();
  return n;
}

void EventLoop::run() {
  stopped_ = false;
  if (uring_) {
    while (!stopped_) {
      int t = deferred_.empty() && !uring_->has_posted() ? next_timer_ms() : 0;
      run_uring(t, false);
    }
    uring_->submit_pending();
    return;
  }
  while (!stopped_) run_once(-1);
}

}  // namespace fa
