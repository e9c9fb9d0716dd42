// The 1 Million Request Challenge (the seed's benchmarks/1mrc): exactly N `POST /event
// {"userId": "user-<i % users>", "value": (i*7) % 1000 + 1}`, then `GET /stats`, whose
// totalRequests, uniqueUsers and sum must equal the totals the client knows it sent. Same
// requests and check as benchmarks/e2e/onemrc/onemrc_client.cpp, driven by the loadgen workers.
#pragma once

#include <string>

#include "request_source.h"

namespace fa::loadgen {

struct Target;

class OneMrcSource : public RequestSource {
 public:
  explicit OneMrcSource(const Options& o) : o_(o), budget_(o.requests) {}
  int next(std::string* out, int count) override;

 private:
  const Options& o_;
  Budget budget_;
};

struct OneMrcTotals {
  double count = 0, users = 0, sum = 0;
};
OneMrcTotals onemrc_expected(const Options& o);
// GET /stats on a fresh connection; false (and *error) when the server does not answer 200.
bool onemrc_fetch(const Options& o, const Target& target, OneMrcTotals* got,
                  std::string* body, std::string* error);

}  // namespace fa::loadgen
