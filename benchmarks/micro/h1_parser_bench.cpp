// HTTP/1.1 request-head parsing: our RequestParser (each scanner ISA) against picohttpparser's
// phr_parse_request, side by side on the same realistic requests. Every parse is checked.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "data/h1_requests.h"
#include "http/h1_parser.h"

#ifdef FA_HAVE_PICOHTTPPARSER
extern "C" {
struct phr_header {
  const char* name;
  size_t name_len;
  const char* value;
  size_t value_len;
};
int phr_parse_request(const char* buf, size_t len, const char** method, size_t* method_len,
                      const char** path, size_t* path_len, int* minor_version,
                      struct phr_header* headers, size_t* num_headers, size_t last_len);
}
#endif

namespace {

using fa::http::RequestHead;
using fa::http::RequestParser;
using fa::http::ScanIsa;

// Bytes of the head: what both parsers consume (a body, if any, follows in the buffer).
size_t head_size(std::string_view req) {
  return req.find("\r\n\r\n") + 4;
}

void BM_Ours(benchmark::State& state, std::string_view req, ScanIsa isa) {
  const std::string buf(req);  // own copy, as a connection buffer would be
  const int want = static_cast<int>(head_size(req));
  RequestParser parser({}, isa);
  RequestHead head;
  if (parser.parse_request(buf, 0, head) != want) {
    state.SkipWithError("RequestParser failed on the sample");
    return;
  }
  for (auto _ : state) {
    const int rc = parser.parse_request(buf, 0, head);
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(head.num_headers);
    if (rc != want) state.SkipWithError("parse failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * want);
  state.SetLabel(std::string(
      fa::http::scan_isa_name(isa == ScanIsa::kAuto ? fa::http::best_scan_isa() : isa)));
}

#ifdef FA_HAVE_PICOHTTPPARSER
void BM_Pico(benchmark::State& state, std::string_view req) {
  const std::string buf(req);
  const int want = static_cast<int>(head_size(req));
  const char* method;
  const char* path;
  size_t method_len, path_len, num_headers;
  int minor;
  phr_header headers[fa::http::kMaxHeaders];
  auto parse = [&] {
    num_headers = fa::http::kMaxHeaders;
    return phr_parse_request(buf.data(), buf.size(), &method, &method_len, &path, &path_len, &minor,
                             headers, &num_headers, 0);
  };
  if (parse() != want) {
    state.SkipWithError("phr_parse_request failed on the sample");
    return;
  }
  for (auto _ : state) {
    const int rc = parse();
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(headers);
    if (rc != want) state.SkipWithError("parse failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * want);
}
#endif

// On a shared machine the fastest repetition is the best estimate of the uncontended cost:
// run with --benchmark_repetitions=N and read the `_min` rows.
double min_of(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}
#define FA_BENCH(...) BENCHMARK_CAPTURE(__VA_ARGS__)->ComputeStatistics("min", min_of)

using fa::bench::kChromeFetch;
using fa::bench::kChromeNavigate;
using fa::bench::kJsonPost;

FA_BENCH(BM_Ours, chrome_navigate_auto, kChromeNavigate, ScanIsa::kAuto);
FA_BENCH(BM_Ours, chrome_navigate_sse42, kChromeNavigate, ScanIsa::kSse42);
FA_BENCH(BM_Ours, chrome_navigate_scalar, kChromeNavigate, ScanIsa::kScalar);
FA_BENCH(BM_Ours, chrome_fetch_auto, kChromeFetch, ScanIsa::kAuto);
FA_BENCH(BM_Ours, chrome_fetch_scalar, kChromeFetch, ScanIsa::kScalar);
FA_BENCH(BM_Ours, json_post_auto, kJsonPost, ScanIsa::kAuto);
FA_BENCH(BM_Ours, json_post_scalar, kJsonPost, ScanIsa::kScalar);
// The fixed cost of a parse: the smallest request a load generator (wrk) sends, 40 bytes.
constexpr std::string_view kMinimalGet = "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";
FA_BENCH(BM_Ours, minimal_get_auto, kMinimalGet, ScanIsa::kAuto);
#ifdef FA_HAVE_PICOHTTPPARSER
FA_BENCH(BM_Pico, minimal_get, kMinimalGet);
FA_BENCH(BM_Pico, chrome_navigate, kChromeNavigate);
FA_BENCH(BM_Pico, chrome_fetch, kChromeFetch);
FA_BENCH(BM_Pico, json_post, kJsonPost);
#endif

}  // namespace

BENCHMARK_MAIN();
