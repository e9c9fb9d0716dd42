// Worker: one thread's connections on one fa::EventLoop (epoll or io_uring readiness), each
// writing a batch of `pipeline` requests, then reading the responses, then the next batch —
// wrk's model, so the two can be compared figure for figure.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "latency_histogram.h"
#include "options.h"
#include "request_source.h"
#include "response_parser.h"

namespace fa::loadgen {

struct Stats {
  uint64_t responses = 0;
  uint64_t bytes = 0;        // bytes read, heads and framing included (wrk's "read")
  uint64_t non2xx = 0;
  uint64_t connect_errors = 0, read_errors = 0, write_errors = 0, timeouts = 0;
  uint64_t lost = 0;         // requests written whose response never came (connection lost)
  double seconds = 0;        // the measured window
  LatencyHistogram latency;  // nanoseconds from the batch's write to the response's last byte
  void merge(const Stats& o);
  uint64_t socket_errors() const { return connect_errors + read_errors + write_errors + timeouts; }
};

struct Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

class Worker {
 public:
  Worker(const Options& o, const Target& target, int connections, RequestSource& source);
  ~Worker();
  // Runs the load on this thread: until the warmup and duration have passed, or (with a
  // request budget) until every request is answered or lost.
  void run();
  const Stats& stats() const { return stats_; }
  LoopBackend backend() const { return loop_.backend(); }

 private:
  class Conn;
  friend class Conn;
  void check_timeouts();
  void maybe_finish();

  const Options& o_;
  Target target_;
  RequestSource& source_;
  EventLoop loop_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::string rbuf_;
  Stats stats_;
  bool measuring_ = false;
  bool exhausted_ = false;     // the source said no more requests
  int64_t in_flight_ = 0;      // requests written and not yet answered or lost
  TimePoint measure_start_;
  TimePoint last_progress_;
};

}  // namespace fa::loadgen
