// gzip (RFC 1952) through zlib's deflate with a gzip wrapper (windowBits 15 + 16).
#include <zlib.h>

#include "compress/codecs.h"

namespace fa::compress {

namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip header and trailer
constexpr int kMemLevel = 8;              // zlib's default: 128 KiB of state + 256 KiB window

class GzipEncoder final : public Encoder {
 public:
  explicit GzipEncoder(int level) {
    ok_ = deflateInit2(&z_, level, Z_DEFLATED, kGzipWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) ==
          Z_OK;
  }
  ~GzipEncoder() override {
    if (ok_) deflateEnd(&z_);
  }
  bool ok() const { return ok_; }
  bool write(std::string_view in, std::string& out) override { return run(in, out, Z_SYNC_FLUSH); }
  bool finish(std::string_view in, std::string& out) override { return run(in, out, Z_FINISH); }
  // Ready for a new stream with the same settings (cheaper than a new deflateInit2).
  bool reset() { return deflateReset(&z_) == Z_OK; }

 private:
  bool run(std::string_view in, std::string& out, int mode) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      size_t room = deflateBound(&z_, z_.avail_in) + 64;
      size_t base = out.size();
      out.resize(base + room);
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + base);
      z_.avail_out = static_cast<uInt>(room);
      int rc = deflate(&z_, mode);
      out.resize(base + (room - z_.avail_out));
      if (rc == Z_STREAM_END) return true;
      if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
      // Done when all input is taken and deflate did not fill the buffer (nothing pending).
      if (z_.avail_in == 0 && z_.avail_out != 0 && mode != Z_FINISH) return true;
    }
  }

  z_stream z_{};
  bool ok_ = false;
};

}  // namespace

std::unique_ptr<Encoder> make_gzip_encoder(int level) {
  auto e = std::make_unique<GzipEncoder>(level);
  if (!e->ok()) return nullptr;
  return e;
}

bool gzip_all(int level, std::string_view in, std::string& out) {
  // One deflate state per thread and level: deflateInit2 allocates ~400 KiB per call.
  thread_local std::unique_ptr<GzipEncoder> cached;
  thread_local int cached_level = -1;
  if (!cached || cached_level != level) {
    cached = std::make_unique<GzipEncoder>(level);
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
