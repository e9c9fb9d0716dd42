// HTTP/1.1 request-head parsing: our RequestParser against picohttpparser's phr_parse_request,
// on the same request bytes, ISA for ISA. Every parse is checked.
//
// Like for like (see docs/performance.md, "HTTP/1.1 parser vs picohttpparser"):
//  * scalar vs scalar: ours pinned to its portable scanner (RequestParser's ScanIsa argument,
//    which exists for tests and benchmarks) against picohttpparser from Debian's libh2o-evloop,
//    which Debian builds for plain x86-64, so its `#ifdef __SSE4_2__` path is compiled out.
//  * SSE4.2 vs SSE4.2: ours pinned to its SSE4.2 scanner against a picohttpparser built with
//    -msse4.2, when FA_PICO_SSE42_LIB names a shared object exporting phr_parse_request (the
//    copy gunicorn-h1c vendors and builds with -O3 -msse4.2; benchmarks/micro/parser_vs_pico.py
//    installs it into the build dir, nothing is copied into this repository).
//  * our AVX2 scanner (what kAuto picks on an AVX2 CPU) has no picohttpparser counterpart:
//    picohttpparser has no AVX2 path. Its rows are reported, never paired as like for like.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "data/h1_requests.h"
#include "http/h1_parser.h"

extern "C" {
struct phr_header {
  const char* name;
  size_t name_len;
  const char* value;
  size_t value_len;
};
#ifdef FA_HAVE_PICOHTTPPARSER
int phr_parse_request(const char* buf, size_t len, const char** method, size_t* method_len,
                      const char** path, size_t* path_len, int* minor_version,
                      struct phr_header* headers, size_t* num_headers, size_t last_len);
#endif
}

namespace {

using fa::http::RequestHead;
using fa::http::RequestParser;
using fa::http::ScanIsa;
using PhrParseRequest = int (*)(const char*, size_t, const char**, size_t*, const char**, size_t*,
                                int*, phr_header*, size_t*, size_t);

// Bytes of the head: what both parsers consume (a body, if any, follows in the buffer).
size_t head_size(std::string_view req) {
  return req.find("\r\n\r\n") + 4;
}

// The ISA a RequestParser constructed with `isa` really runs (a level the CPU lacks falls back).
ScanIsa effective(ScanIsa isa) {
  const ScanIsa best = fa::http::best_scan_isa();
  return isa == ScanIsa::kAuto || static_cast<int>(isa) > static_cast<int>(best) ? best : isa;
}

void BM_Ours(benchmark::State& state, std::string_view req, ScanIsa isa) {
  if (effective(isa) != isa) {
    state.SkipWithError("this CPU lacks the ISA");
    return;
  }
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
  state.SetLabel(std::string(fa::http::scan_isa_name(isa)));
}

void BM_Pico(benchmark::State& state, std::string_view req, PhrParseRequest phr,
             const char* build) {
  const std::string buf(req);
  const int want = static_cast<int>(head_size(req));
  const char* method;
  const char* path;
  size_t method_len, path_len, num_headers;
  int minor;
  phr_header headers[fa::http::kMaxHeaders];
  auto parse = [&] {
    num_headers = fa::http::kMaxHeaders;
    return phr(buf.data(), buf.size(), &method, &method_len, &path, &path_len, &minor, headers,
               &num_headers, 0);
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
  state.SetLabel(build);
}

// On a shared machine the fastest repetition is the best estimate of the uncontended cost:
// run with --benchmark_repetitions=N and read the `_min` rows.
double min_of(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}

struct Sample {
  const char* name;
  std::string_view bytes;
};
// The fixed cost of a parse: the smallest request a load generator (wrk) sends, 40 bytes.
constexpr std::string_view kMinimalGet = "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";
const Sample kSamples[] = {{"chrome_navigate", fa::bench::kChromeNavigate},
                           {"chrome_fetch", fa::bench::kChromeFetch},
                           {"json_post", fa::bench::kJsonPost},
                           {"minimal_get", kMinimalGet}};

// Names: BM_Ours/<sample>/<isa>, BM_Pico/<sample>/<build>; parser_vs_pico.py pairs them.
void register_all() {
  for (const Sample& s : kSamples) {
    for (ScanIsa isa : {ScanIsa::kScalar, ScanIsa::kSse42, ScanIsa::kAvx2}) {
      const std::string name =
          std::string("BM_Ours/") + s.name + "/" + std::string(fa::http::scan_isa_name(isa));
      benchmark::RegisterBenchmark(name.c_str(), BM_Ours, s.bytes, isa)
          ->ComputeStatistics("min", min_of);
    }
  }
#ifdef FA_HAVE_PICOHTTPPARSER
  for (const Sample& s : kSamples) {
    benchmark::RegisterBenchmark((std::string("BM_Pico/") + s.name + "/debian_scalar").c_str(),
                                 BM_Pico, s.bytes, &phr_parse_request,
                                 "Debian libh2o-evloop, x86-64 baseline (no SSE4.2)")
        ->ComputeStatistics("min", min_of);
  }
#endif
  // A picohttpparser built with -msse4.2 (see the top of this file). Loaded with RTLD_LAZY:
  // gunicorn-h1c's module also references the Python C API, which is never called here (the
  // runner preloads libpython so its data symbols resolve).
  if (const char* lib = std::getenv("FA_PICO_SSE42_LIB"); lib != nullptr && *lib != '\0') {
    void* handle = dlopen(lib, RTLD_LAZY | RTLD_LOCAL);
    auto* phr =
        handle ? reinterpret_cast<PhrParseRequest>(dlsym(handle, "phr_parse_request")) : nullptr;
    if (phr == nullptr) {
      std::fprintf(stderr, "FA_PICO_SSE42_LIB=%s: %s\n", lib, dlerror());
      std::exit(2);
    }
    for (const Sample& s : kSamples) {
      benchmark::RegisterBenchmark((std::string("BM_Pico/") + s.name + "/sse42").c_str(), BM_Pico,
                                   s.bytes, phr, "built with -msse4.2 (FA_PICO_SSE42_LIB)")
          ->ComputeStatistics("min", min_of);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("fa_scan_isa_auto",
                              std::string(fa::http::scan_isa_name(fa::http::best_scan_isa())));
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
