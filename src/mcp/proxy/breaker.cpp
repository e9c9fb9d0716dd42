// CircuitBreaker state machine.
#include "mcp/proxy/breaker.h"

namespace fa::mcp::proxy {

CircuitBreaker::State CircuitBreaker::state(TimePoint now) const {
  if (state_ == State::kOpen && now - opened_at_ >= options_.cooldown) return State::kHalfOpen;
  return state_;
}

Duration CircuitBreaker::retry_in(TimePoint now) const {
  if (state(now) != State::kOpen) return Duration::zero();
  return options_.cooldown - (now - opened_at_);
}

bool CircuitBreaker::allow(TimePoint now) {
  switch (state(now)) {
    case State::kClosed:
      return true;
    case State::kOpen:
      return false;
    case State::kHalfOpen:
      if (state_ == State::kOpen) {  // the cool-down just ended
        state_ = State::kHalfOpen;
        probes_ = 0;
      }
      if (probes_ >= options_.half_open_probes) return false;
      ++probes_;
      return true;
  }
  return false;
}

void CircuitBreaker::success() {
  state_ = State::kClosed;
  failures_ = 0;
  probes_ = 0;
}

void CircuitBreaker::failure(TimePoint now) {
  ++failures_;
  if (state_ == State::kHalfOpen || failures_ >= options_.failure_threshold) {
    state_ = State::kOpen;
    opened_at_ = now;
    probes_ = 0;
  }
}

std::string_view state_name(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "?";
}

}  // namespace fa::mcp::proxy
