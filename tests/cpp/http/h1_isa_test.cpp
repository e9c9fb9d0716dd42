// The three head scanners (scalar, SSE4.2, AVX2) must agree byte for byte: same result, same
// views, same error status and reason, on valid requests and on deterministic mutations of them.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "http/h1_parser.h"
#include "http/h1_test_util.h"

namespace fa::http {
namespace {

const std::vector<std::string> kSeeds = {
    "GET /a/b?c=d#e HTTP/1.1\r\nHost: example.com:8080\r\nConnection: keep-alive\r\n\r\n",
    "POST /items HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Type: "
    "application/json\r\n\r\n",
    "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
    "GET / HTTP/1.0\r\nConnection: close, Upgrade\r\nUpgrade: x\r\nX-Long: " +
        std::string(90, 'v') + "\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: [::1]\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n\r\n",
};

// Bytes the mutator favours: the ones that change the parser's decisions.
constexpr char kInteresting[] = {'\r', '\n', ' ', '\t', ':', '?', '#', '\0', '\x7f', '\x80',
                                 ',',  ';',  'a', 'A',  '0', '/', '(', '@',  '\x01', '\xff'};

std::string mutate(std::string s, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = rng() % s.size();
    const char c = kInteresting[rng() % sizeof(kInteresting)];
    switch (rng() % 3) {
      case 0:
        s[at] = c;
        break;
      case 1:
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        s.erase(at, 1);
        break;
    }
  }
  if (rng() % 4 == 0) s.resize(rng() % (s.size() + 1));  // truncated: partial heads too
  return s;
}

TEST(H1Isa, ScannersAgreeOnSeedsAndMutations) {
  std::mt19937 rng(20251126);  // fixed seed: the test is deterministic
  ParserLimits small;
  small.max_request_line = 48;
  small.max_header_bytes = 160;
  small.max_headers = 4;
  size_t complete = 0, errors = 0;
  for (int i = 0; i < 30000; ++i) {
    const std::string& seed = kSeeds[static_cast<size_t>(i) % kSeeds.size()];
    const std::string in = i < static_cast<int>(kSeeds.size()) ? seed : mutate(seed, rng);
    for (const ParserLimits& limits : {ParserLimits{}, small}) {
      const test::Outcome scalar = test::parse_once(in, limits, ScanIsa::kScalar);
      ASSERT_EQ(test::parse_once(in, limits, ScanIsa::kSse42), scalar) << "input #" << i;
      ASSERT_EQ(test::parse_once(in, limits, ScanIsa::kAvx2), scalar) << "input #" << i;
      complete += scalar.rc > 0;
      errors += scalar.rc == kError;
    }
  }
  // The mutations reach both outcomes often enough for the comparison to mean something.
  EXPECT_GT(complete, 5000u);
  EXPECT_GT(errors, 5000u);
}

}  // namespace
}  // namespace fa::http
