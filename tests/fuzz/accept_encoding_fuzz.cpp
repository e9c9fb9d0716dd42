// libFuzzer target: Accept-Encoding negotiation (src/compress/accept_encoding.h) on arbitrary
// bytes. Invariants: never crashes; the choice is an offered coding or identity; a coding
// chosen has q > 0 and no other offered coding has a higher q.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "compress/accept_encoding.h"

using fa::compress::AcceptEncoding;
using fa::compress::Coding;
using fa::compress::CodingSet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // First byte: which codings the server offers; the rest: the field value.
  CodingSet offered;
  if (data[0] & 1) offered = offered.with(Coding::kGzip);
  if (data[0] & 2) offered = offered.with(Coding::kBrotli);
  if (data[0] & 4) offered = offered.with(Coding::kZstd);
  std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  AcceptEncoding ae;
  ae.add(value);
  Coding c = ae.choose(offered);
  if (c != Coding::kIdentity) {
    if (!offered.has(c) || ae.qvalue(c) <= 0) std::abort();
    for (Coding other : {Coding::kGzip, Coding::kBrotli, Coding::kZstd})
      if (offered.has(other) && ae.qvalue(other) > ae.qvalue(c)) std::abort();
  }
  if (fa::compress::negotiate(value, offered) != c) std::abort();  // one-call form agrees
  return 0;
}
