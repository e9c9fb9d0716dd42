// Encoder factory: picks the codec file for a coding.
#include "compress/encoder.h"

#include "compress/codecs.h"

namespace fa::compress {

std::unique_ptr<Encoder> make_encoder(Coding coding, int level) {
  switch (coding) {
    case Coding::kGzip:
      return make_gzip_encoder(level);
    case Coding::kBrotli:
      return make_brotli_encoder(level);
    case Coding::kZstd:
      return make_zstd_encoder(level);
    case Coding::kIdentity:
      break;
  }
  return nullptr;
}

bool compress_all(Coding coding, int level, std::string_view in, std::string& out) {
  switch (coding) {
    case Coding::kGzip:
      return gzip_all(level, in, out);
    case Coding::kBrotli:
      return brotli_all(level, in, out);
    case Coding::kZstd:
      return zstd_all(level, in, out);
    case Coding::kIdentity:
      break;
  }
  out.append(in);
  return true;
}

}  // namespace fa::compress
