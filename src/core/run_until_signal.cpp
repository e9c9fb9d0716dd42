#include "core/run_until_signal.h"

#include <csignal>

namespace fa {
namespace {
EventLoop* g_stopping = nullptr;

// Only sets the loop's flag; the signal also interrupts the loop's wait (EINTR), so the loop
// sees the flag at once.
void stop_loop(int) {
  if (g_stopping != nullptr) g_stopping->stop();
}
}  // namespace

void run_until_signal(EventLoop& loop) {
  g_stopping = &loop;
  struct sigaction stop_action {};
  stop_action.sa_handler = stop_loop;
  sigemptyset(&stop_action.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  ::sigaction(SIGINT, &stop_action, &old_int);
  ::sigaction(SIGTERM, &stop_action, &old_term);
  ::signal(SIGPIPE, SIG_IGN);
  loop.run();
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  g_stopping = nullptr;
}

}  // namespace fa
