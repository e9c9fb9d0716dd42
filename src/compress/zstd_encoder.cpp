// Zstandard (RFC 8878) through libzstd's streaming API.
#include <zstd.h>

#include "compress/codecs.h"

namespace fa::compress {

namespace {

// RFC 9659 §3: HTTP decoders need only support windows up to 8 MiB. Levels up to 19 keep
// within that (level 19: windowLog 23); 20-22 ("ultra") do not, so they are capped.
constexpr int kMaxLevel = 19;

class ZstdEncoder final : public Encoder {
 public:
  explicit ZstdEncoder(int level) : c_(ZSTD_createCCtx()) {
    if (c_) configure(level);
  }
  ~ZstdEncoder() override { ZSTD_freeCCtx(c_); }
  ZstdEncoder(const ZstdEncoder&) = delete;
  ZstdEncoder& operator=(const ZstdEncoder&) = delete;
  bool ok() const { return c_ != nullptr; }
  bool write(std::string_view in, std::string& out) override { return run(in, out, ZSTD_e_flush); }
  bool finish(std::string_view in, std::string& out) override { return run(in, out, ZSTD_e_end); }
  bool reset() { return !ZSTD_isError(ZSTD_CCtx_reset(c_, ZSTD_reset_session_only)); }

 private:
  void configure(int level) {
    ZSTD_CCtx_setParameter(c_, ZSTD_c_compressionLevel, level > kMaxLevel ? kMaxLevel : level);
    ZSTD_CCtx_setParameter(c_, ZSTD_c_checksumFlag, 1);
  }

  bool run(std::string_view in, std::string& out, ZSTD_EndDirective mode) {
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    for (;;) {
      size_t room = ZSTD_compressBound(input.size - input.pos) + 64;
      size_t base = out.size();
      out.resize(base + room);
      ZSTD_outBuffer output{out.data() + base, room, 0};
      size_t left = ZSTD_compressStream2(c_, &output, &input, mode);
      out.resize(base + output.pos);
      if (ZSTD_isError(left)) return false;
      if (left == 0 && input.pos == input.size) return true;  // flushed (or frame ended)
    }
  }

  ZSTD_CCtx* c_;
};

}  // namespace

std::unique_ptr<Encoder> make_zstd_encoder(int level) {
  auto e = std::make_unique<ZstdEncoder>(level);
  if (!e->ok()) return nullptr;
  return e;
}

bool zstd_all(int level, std::string_view in, std::string& out) {
  // One context per thread and level: creating one allocates its tables.
  thread_local std::unique_ptr<ZstdEncoder> cached;
  thread_local int cached_level = -1;
  if (!cached || cached_level != level) {
    cached = std::make_unique<ZstdEncoder>(level);
    cached_level = level;
    if (!cached->ok()) {
      cached.reset();
      return false;
    }
  } else if (!cached->reset()) {
    cached.reset();
    return false;
  }
  return cached->finish(in, out);
}

}  // namespace fa::compress
