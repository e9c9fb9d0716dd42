// LatencyHistogram: log-linear buckets in the manner of HdrHistogram — values below 128 are
// exact, above that each power of two is split in 64 buckets (≤ 1.6 % relative error) — so
// recording is an increment and percentiles cost one pass over ~3,800 counters.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace fa::loadgen {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 6;                 // 64 buckets per power of two
  static constexpr int kLinear = 2 << kSubBits;      // 0..127 recorded exactly
  static constexpr int kBuckets = kLinear + (64 - kSubBits - 1) * (1 << kSubBits);

  static int index_of(uint64_t v) {
    if (v < static_cast<uint64_t>(kLinear)) return static_cast<int>(v);
    int shift = std::bit_width(v) - 1 - kSubBits;  // v >> shift is in [64, 128)
    return kLinear + (shift - 1) * (1 << kSubBits) + static_cast<int>((v >> shift) - 64);
  }
  // The largest value that falls in bucket i (reported percentiles never under-state).
  static uint64_t upper_of(int i) {
    if (i < kLinear) return static_cast<uint64_t>(i);
    int shift = (i - kLinear) / (1 << kSubBits) + 1;
    uint64_t sub = static_cast<uint64_t>((i - kLinear) % (1 << kSubBits)) + 64;
    return ((sub + 1) << shift) - 1;
  }

  void record(uint64_t v) {
    ++counts_[index_of(v)];
    ++total_;
    sum_ += v;
    if (v > max_) max_ = v;
  }
  void merge(const LatencyHistogram& o) {
    for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    sum_ += o.sum_;
    if (o.max_ > max_) max_ = o.max_;
  }
  void clear() { *this = LatencyHistogram(); }

  // The value at percentile p (0..100): the bucket holding the ceil(p% · total)-th value.
  uint64_t percentile(double p) const {
    if (total_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(p / 100.0 * static_cast<double>(total_) + 0.999999);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return upper_of(i) < max_ ? upper_of(i) : max_;
    }
    return max_;
  }
  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  double mean() const { return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0; }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace fa::loadgen
