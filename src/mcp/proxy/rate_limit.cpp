// RateLimiter: token buckets.
#include "mcp/proxy/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace fa::mcp::proxy {

RateLimiter::RateLimiter(RateLimitOptions options) : options_(options) {
  if (options_.burst <= 0) options_.burst = std::max(1.0, options_.rate);
  if (options_.max_clients == 0) options_.max_clients = 1;
}

bool RateLimiter::take(std::string_view key, TimePoint now, Duration& retry_after) {
  retry_after = Duration::zero();
  if (!enabled()) return true;
  key_.assign(key);
  auto it = buckets_.find(key_);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_clients) prune(now);
    it = buckets_.emplace(key_, Bucket{options_.burst, now}).first;
  }
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(options_.burst, b.tokens + std::max(0.0, elapsed) * options_.rate);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  double wait_s = (1.0 - b.tokens) / options_.rate;
  retry_after = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(wait_s));
  return false;
}

void RateLimiter::prune(TimePoint now) {
  // Full buckets carry no state worth keeping.
  std::erase_if(buckets_, [&](const auto& kv) {
    double elapsed = std::chrono::duration<double>(now - kv.second.last).count();
    return kv.second.tokens + elapsed * options_.rate >= options_.burst;
  });
  while (buckets_.size() >= options_.max_clients) {  // still full: drop the least recent
    auto oldest = std::min_element(
        buckets_.begin(), buckets_.end(),
        [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
    buckets_.erase(oldest);
  }
}

}  // namespace fa::mcp::proxy
