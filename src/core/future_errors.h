// Errors produced by future composition: timeouts and the aggregate of several failures.
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fa {

// Delivered by with_timeout() when the deadline passes first.
class timed_out_error : public std::runtime_error {
 public:
  timed_out_error() : std::runtime_error("fa::with_timeout: timed out") {}
};

// Every failure of a composed operation, each with the index of the input that failed.
class composite_error : public std::runtime_error {
 public:
  using failure = std::pair<size_t, std::exception_ptr>;
  explicit composite_error(std::vector<failure> failures)
      : std::runtime_error(describe(failures)), failures_(std::move(failures)) {}
  const std::vector<failure>& failures() const noexcept { return failures_; }

 private:
  static std::string describe(const std::vector<failure>& fs) {
    std::string msg = std::to_string(fs.size()) + " operation(s) failed";
    for (const auto& [index, e] : fs) {
      msg += "; #" + std::to_string(index) + ": ";
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        msg += ex.what();
      } catch (...) {
        msg += "unknown exception";
      }
    }
    return msg;
  }
  std::vector<failure> failures_;
};

}  // namespace fa
