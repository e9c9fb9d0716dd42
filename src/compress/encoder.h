// Encoder: one compressed stream (gzip, br or zstd) fed in pieces, each piece flushed so the
// peer can decode everything written so far (streaming and SSE bodies are not held back).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "compress/coding.h"

namespace fa::compress {

class Encoder {
 public:
  virtual ~Encoder() = default;
  // Compresses `in` and appends the output to `out`, flushed to a byte boundary
  // (Z_SYNC_FLUSH / BROTLI_OPERATION_FLUSH / ZSTD_e_flush). Returns false on a codec error.
  virtual bool write(std::string_view in, std::string& out) = 0;
  // Compresses `in` and ends the stream (trailer, checksum). Returns false on a codec error.
  virtual bool finish(std::string_view in, std::string& out) = 0;
};

// An encoder for `coding` at `level` (gzip 1..9, br 0..11, zstd 1..19); nullptr for identity
// or when the codec cannot be initialised.
std::unique_ptr<Encoder> make_encoder(Coding coding, int level);

// Compresses a whole body in one call, appending to `out`. Returns false on a codec error
// (out is then unspecified). Reuses per-thread codec state where the library allows it.
bool compress_all(Coding coding, int level, std::string_view in, std::string& out);

}  // namespace fa::compress
