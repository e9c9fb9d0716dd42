// future_task: the loop-local queue that runs continuations of fulfilled promises.
#pragma once

namespace fa::detail {

// A unit of work queued when a promise is fulfilled. Intrusive (no allocation to queue).
class task {
 public:
  virtual ~task() = default;
  // Runs the work and destroys the task.
  virtual void run_and_dispose() noexcept = 0;
  task* next_ = nullptr;
};

// Per-thread FIFO of ready tasks. Futures are loop-local, so one queue per thread is one queue
// per loop.
struct task_queue {
  task* head = nullptr;
  task* tail = nullptr;
  bool draining = false;
};

inline thread_local task_queue tls_tasks;

// Queues `t`; if no task is running on this thread, runs the queue to empty before returning.
// So a continuation runs at once when its promise is fulfilled from outside any continuation,
// and right after the current one returns otherwise: long chains never deepen the stack.
inline void schedule(task* t) noexcept {
  task_queue& q = tls_tasks;
  t->next_ = nullptr;
  if (q.tail) {
    q.tail->next_ = t;
  } else {
    q.head = t;
  }
  q.tail = t;
  if (q.draining) return;
  q.draining = true;
  while (task* cur = q.head) {
    q.head = cur->next_;
    if (!q.head) q.tail = nullptr;
    cur->run_and_dispose();
  }
  q.draining = false;
}

}  // namespace fa::detail
