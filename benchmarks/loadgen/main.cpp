// loadgen — an HTTP/1.1 load generator on the engine's event loop, for where wrk's single Lua
// thread is the limit (pipelined plaintext). Prints wrk-like text; --json adds a JSON summary
// as the last line. See benchmarks/loadgen/README.md.
#include <netdb.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "onemrc.h"
#include "options.h"
#include "worker.h"

using namespace fa::loadgen;

namespace {

bool resolve(const Options& o, Target* t) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(o.port);
  if (::getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return false;
  std::memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
  t->len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return true;
}

void raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char out[32];
  std::snprintf(out, sizeof out, "%.2f%s", b, units[u]);
  return out;
}

std::string human_ns(uint64_t ns) {
  char out[32];
  if (ns < 1'000'000) std::snprintf(out, sizeof out, "%.2fus", static_cast<double>(ns) / 1e3);
  else if (ns < 1'000'000'000) std::snprintf(out, sizeof out, "%.2fms", static_cast<double>(ns) / 1e6);
  else std::snprintf(out, sizeof out, "%.2fs", static_cast<double>(ns) / 1e9);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string err = parse_options(argc, argv, &o);
  if (!err.empty()) {
    std::fprintf(stderr, "loadgen: %s\n%s", err.c_str(), usage());
    return 2;
  }
  Target target;
  if (!resolve(o, &target)) {
    std::fprintf(stderr, "loadgen: cannot resolve %s\n", o.host.c_str());
    return 2;
  }
  raise_fd_limit();
  if (o.onemrc && o.paths[0] == "/") o.paths[0] = "/event";

  std::unique_ptr<RequestSource> source;
  if (o.onemrc) source = std::make_unique<OneMrcSource>(o);
  else source = std::make_unique<FixedSource>(o);

  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) {
    int conns = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, target, conns, *source));
  }
  char what[64];
  if (o.requests > 0) std::snprintf(what, sizeof what, "%lld-request", static_cast<long long>(o.requests));
  else std::snprintf(what, sizeof what, "%gs", o.duration.count());
  std::printf("Running %s test @ http://%s:%d%s\n", what, o.host.c_str(), o.port,
              o.paths[0].c_str());
  std::printf("  %d threads and %d connections, pipeline %d, loop %s\n", o.threads,
              o.connections, o.pipeline, fa::loop_backend_name(workers[0]->backend()));
  std::fflush(stdout);

  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers.size(); ++t) threads.emplace_back([&, t] { workers[t]->run(); });
  workers[0]->run();
  for (auto& th : threads) th.join();

  Stats s;
  for (auto& w : workers) s.merge(w->stats());
  double rps = s.seconds > 0 ? static_cast<double>(s.responses) / s.seconds : 0;
  double bps = s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds : 0;
  const LatencyHistogram& h = s.latency;
  std::printf("  Latency    p50 %s  p90 %s  p99 %s  max %s  mean %s\n",
              human_ns(h.percentile(50)).c_str(), human_ns(h.percentile(90)).c_str(),
              human_ns(h.percentile(99)).c_str(), human_ns(h.max()).c_str(),
              human_ns(static_cast<uint64_t>(h.mean())).c_str());
  std::printf("  %llu requests in %.2fs, %s read\n",
              static_cast<unsigned long long>(s.responses), s.seconds,
              human_bytes(static_cast<double>(s.bytes)).c_str());
  if (s.socket_errors() > 0) {
    std::printf("  Socket errors: connect %llu, read %llu, write %llu, timeout %llu\n",
                static_cast<unsigned long long>(s.connect_errors),
                static_cast<unsigned long long>(s.read_errors),
                static_cast<unsigned long long>(s.write_errors),
                static_cast<unsigned long long>(s.timeouts));
  }
  if (s.non2xx > 0) {
    std::printf("  Non-2xx responses: %llu\n", static_cast<unsigned long long>(s.non2xx));
  }
  if (s.lost > 0) {
    std::printf("  Requests lost with their connection: %llu\n",
                static_cast<unsigned long long>(s.lost));
  }
  std::printf("Requests/sec: %.2f\nTransfer/sec: %s\n", rps, human_bytes(bps).c_str());

  // No response at all is a failed run (wrong port, server down), not a zero to be averaged.
  int status = s.responses == 0 ? 1 : 0;
  if (s.responses == 0) std::fprintf(stderr, "loadgen: no response from the server\n");
  std::string onemrc_json;
  if (o.onemrc) {
    OneMrcTotals want = onemrc_expected(o), got;
    std::string body, why;
    bool fetched = onemrc_fetch(o, target, &got, &body, &why);
    bool exact = fetched && s.socket_errors() == 0 && s.lost == 0 && s.non2xx == 0 &&
                 s.responses == static_cast<uint64_t>(o.requests) && got.count == want.count &&
                 got.users == want.users && got.sum == want.sum;
    std::printf("1MRC expected: totalRequests=%.0f uniqueUsers=%.0f sum=%.0f\n", want.count,
                want.users, want.sum);
    std::printf("1MRC got:      %s\n%s\n", fetched ? body.c_str() : why.c_str(),
                exact ? "EXACT" : "MISMATCH");
    char buf[160];
    std::snprintf(buf, sizeof buf, ",\"onemrc\":{\"exact\":%s,\"expected_sum\":%.0f,\"got_sum\":%.0f}",
                  exact ? "true" : "false", want.sum, fetched ? got.sum : -1.0);
    onemrc_json = buf;
    status = exact ? 0 : 1;
  }
  if (o.json) {
    std::printf(
        "{\"url\":\"http://%s:%d%s\",\"connections\":%d,\"threads\":%d,\"pipeline\":%d,"
        "\"loop\":\"%s\",\"seconds\":%.6f,\"requests\":%llu,\"rps\":%.1f,\"bytes\":%llu,"
        "\"bytes_per_sec\":%.1f,\"non2xx\":%llu,\"errors\":{\"connect\":%llu,\"read\":%llu,"
        "\"write\":%llu,\"timeout\":%llu},\"lost\":%llu,\"latency_us\":{\"p50\":%.1f,"
        "\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f,\"mean\":%.1f}%s}\n",
        o.host.c_str(), o.port, o.paths[0].c_str(), o.connections, o.threads, o.pipeline,
        fa::loop_backend_name(workers[0]->backend()), s.seconds,
        static_cast<unsigned long long>(s.responses), rps,
        static_cast<unsigned long long>(s.bytes), bps, static_cast<unsigned long long>(s.non2xx),
        static_cast<unsigned long long>(s.connect_errors),
        static_cast<unsigned long long>(s.read_errors),
        static_cast<unsigned long long>(s.write_errors),
        static_cast<unsigned long long>(s.timeouts), static_cast<unsigned long long>(s.lost),
        static_cast<double>(h.percentile(50)) / 1e3, static_cast<double>(h.percentile(90)) / 1e3,
        static_cast<double>(h.percentile(99)) / 1e3, static_cast<double>(h.max()) / 1e3,
        h.mean() / 1e3, onemrc_json.c_str());
  }
  return status;
}
