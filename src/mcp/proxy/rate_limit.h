// RateLimiter: a token bucket per client key (an Mcp-Session-Id, a peer address, "stdio"), sans
// I/O. Each bucket holds up to `burst` tokens and refills at `rate` per second; a request takes
// one. Buckets idle long enough to be full again are forgotten, and at most `max_clients` are
// kept (the oldest go first), so many clients cannot grow it without bound.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/event_loop.h"

namespace fa::mcp::proxy {

struct RateLimitOptions {
  double rate = 0;   // tokens per second; 0 disables the limit
  double burst = 0;  // bucket size; 0 means max(1, rate)
  size_t max_clients = 10000;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimitOptions options = {});

  bool enabled() const { return options_.rate > 0; }
  // Takes a token for `key`; false when none is left, with the wait until one is in `retry_after`.
  bool take(std::string_view key, TimePoint now, Duration& retry_after);
  size_t clients() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    TimePoint last;
  };
  void prune(TimePoint now);

  RateLimitOptions options_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::string key_;
};

}  // namespace fa::mcp::proxy
