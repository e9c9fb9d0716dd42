// CircuitBreaker: one per upstream, sans I/O (the caller passes the time). Closed: calls go
// through and consecutive transport failures are counted; `failure_threshold` of them open it.
// Open: calls are refused at once for `cooldown`. Half-open: up to `half_open_probes` calls go
// through; one success closes it, one failure opens it again for another cool-down.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "core/event_loop.h"

namespace fa::mcp::proxy {

struct BreakerOptions {
  int failure_threshold = 5;
  Duration cooldown = std::chrono::seconds(30);
  int half_open_probes = 1;
};

class CircuitBreaker {
 public:
  enum class State : uint8_t { kClosed, kOpen, kHalfOpen };

  explicit CircuitBreaker(BreakerOptions options = {}) : options_(options) {}

  // True when a call may go through now (counts a half-open probe).
  bool allow(TimePoint now);
  // The outcome of a call allow() let through.
  void success();
  void failure(TimePoint now);

  State state(TimePoint now) const;
  // How long until an open breaker lets a probe through (0 unless open).
  Duration retry_in(TimePoint now) const;
  int consecutive_failures() const { return failures_; }
  const BreakerOptions& options() const { return options_; }

 private:
  BreakerOptions options_;
  State state_ = State::kClosed;
  int failures_ = 0;
  int probes_ = 0;  // half-open calls in flight
  TimePoint opened_at_{};
};

std::string_view state_name(CircuitBreaker::State state);

}  // namespace fa::mcp::proxy
