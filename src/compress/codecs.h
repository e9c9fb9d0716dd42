// The codec implementations behind make_encoder / compress_all (one file per codec).
#pragma once

#include "compress/encoder.h"

namespace fa::compress {

std::unique_ptr<Encoder> make_gzip_encoder(int level);
std::unique_ptr<Encoder> make_brotli_encoder(int quality);
std::unique_ptr<Encoder> make_zstd_encoder(int level);
bool gzip_all(int level, std::string_view in, std::string& out);
bool brotli_all(int quality, std::string_view in, std::string& out);
bool zstd_all(int level, std::string_view in, std::string& out);

}  // namespace fa::compress
