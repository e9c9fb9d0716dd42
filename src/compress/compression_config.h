// CompressionConfig: which codings the server offers, from what size, at what levels.
#pragma once

#include <cstddef>

#include "compress/coding.h"

namespace fa::compress {

struct CompressionConfig {
  CodingSet codings;       // offered codings; empty = compression off (the default)
  size_t min_size = 500;   // bytes; smaller bodies are sent as is (Starlette's default)
  int gzip_level = 6;      // 1..9; zlib's default trade-off
  int brotli_quality = 4;  // 0..11; 4 is the usual choice for dynamic responses
  int zstd_level = 3;      // 1..19; libzstd's default

  bool enabled() const { return !codings.empty(); }
  int level(Coding c) const {
    switch (c) {
      case Coding::kGzip:
        return gzip_level;
      case Coding::kBrotli:
        return brotli_quality;
      case Coding::kZstd:
        return zstd_level;
      case Coding::kIdentity:
        break;
    }
    return 0;
  }
};

}  // namespace fa::compress
