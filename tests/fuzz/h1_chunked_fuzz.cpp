// libFuzzer target: ChunkedDecoder on arbitrary bytes, one-shot and split in two, checking that
// output stays inside the input, totals add up, and splitting never changes the result.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "http/h1_parser.h"

namespace {

using fa::http::ChunkedDecoder;
using fa::http::kError;
using fa::http::kPartial;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "h1_chunked_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

struct Result {
  int rc = kPartial;
  int status = 0;
  std::string body;
  std::string rest;
};

// Decodes `in` in one or two calls, each on an exact-size heap copy.
Result decode(std::string_view in, size_t split, uint64_t max) {
  ChunkedDecoder dec(max);
  Result r;
  const std::string_view parts[2] = {in.substr(0, split), in.substr(split)};
  for (std::string_view part : parts) {
    auto buf = std::make_unique<char[]>(part.size() ? part.size() : 1);
    if (!part.empty()) std::memcpy(buf.get(), part.data(), part.size());
    size_t len = part.size();
    r.rc = dec.decode(buf.get(), &len);
    check(len <= part.size(), "decoded length <= input");
    r.body.append(buf.get(), len);
    if (r.rc == kError) {
      const int s = dec.error().status;
      check(s == 400 || s == 413 || s == 431, "error status");
      check(!dec.error().reason.empty(), "error reason");
      r.status = s;
      return r;
    }
    if (r.rc >= 0) {
      check(len + static_cast<size_t>(r.rc) <= part.size(), "rest inside input");
      r.rest.assign(buf.get() + len, static_cast<size_t>(r.rc));
      check(dec.total_decoded() == r.body.size(), "total_decoded");
      check(dec.total_decoded() <= max, "body limit");
      return r;
    }
    check(r.rc == kPartial, "return value");
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint64_t max = (data[0] & 1) ? 64 : 1 << 20;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Result whole = decode(in, in.size(), max);
  const size_t split = in.empty() ? 0 : (data[0] >> 1) % (in.size() + 1);
  const Result parts = decode(in, split, max);
  check(whole.rc == parts.rc || (whole.rc >= 0 && parts.rc >= 0), "split agrees on outcome");
  check(whole.status == parts.status, "split agrees on status");
  if (whole.rc >= 0) {
    check(whole.body == parts.body, "split agrees on body");
    // Whatever followed the body, across both calls, is the same bytes.
    check(whole.rest.size() >= parts.rest.size(), "rest sizes");
  }
  return 0;
}
