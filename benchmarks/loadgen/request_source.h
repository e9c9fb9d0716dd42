// Where a load generator's requests come from: the same few requests over and over (wrk's
// model), or requests built one by one (the 1 Million Request Challenge's distinct events).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "options.h"

namespace fa::loadgen {

class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // Appends up to `count` requests to *out; returns how many (0: nothing more to send).
  // Called from several worker threads at once.
  virtual int next(std::string* out, int count) = 0;
  virtual bool head_requests() const { return false; }
};

// Hands out at most `limit` request indexes across threads (limit 0: unlimited).
class Budget {
 public:
  explicit Budget(int64_t limit) : limit_(limit) {}
  // Takes up to `want` indexes; returns how many and sets *first to the first one.
  int take(int want, int64_t* first) {
    int64_t at = next_.fetch_add(want, std::memory_order_relaxed);
    *first = at;
    if (limit_ == 0) return want;
    if (at >= limit_) return 0;
    return static_cast<int>(std::min<int64_t>(want, limit_ - at));
  }

 private:
  int64_t limit_;
  std::atomic<int64_t> next_{0};
};

// The same request(s), prebuilt: request i goes to paths[i % paths.size()].
class FixedSource : public RequestSource {
 public:
  explicit FixedSource(const Options& o);
  int next(std::string* out, int count) override;
  bool head_requests() const override { return head_; }
  const std::string& request(size_t i) const { return requests_[i % requests_.size()]; }

 private:
  std::vector<std::string> requests_;
  Budget budget_;
  bool head_;
};

// "METHOD path HTTP/1.1" with Host, the extra headers and, when body is not empty,
// Content-Length (RFC 9112 §3, §6.2).
std::string build_request(const Options& o, const std::string& path, const std::string& body,
                          const char* content_type = nullptr);

}  // namespace fa::loadgen
