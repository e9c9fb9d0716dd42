// Brotli (RFC 7932) through libbrotlienc's streaming encoder.
#include <brotli/encode.h>

#include "compress/codecs.h"

namespace fa::compress {

namespace {

class BrotliEncoder final : public Encoder {
 public:
  explicit BrotliEncoder(int quality) : s_(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr)) {
    if (s_) {
      BrotliEncoderSetParameter(s_, BROTLI_PARAM_QUALITY, static_cast<uint32_t>(quality));
      BrotliEncoderSetParameter(s_, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT);  // we compress text types
    }
  }
  ~BrotliEncoder() override {
    if (s_) BrotliEncoderDestroyInstance(s_);
  }
  BrotliEncoder(const BrotliEncoder&) = delete;
  BrotliEncoder& operator=(const BrotliEncoder&) = delete;
  bool ok() const { return s_ != nullptr; }
  bool write(std::string_view in, std::string& out) override {
    return run(in, out, BROTLI_OPERATION_FLUSH);
  }
  bool finish(std::string_view in, std::string& out) override {
    return run(in, out, BROTLI_OPERATION_FINISH);
  }

 private:
  bool run(std::string_view in, std::string& out, BrotliEncoderOperation op) {
    size_t avail_in = in.size();
    const uint8_t* next_in = reinterpret_cast<const uint8_t*>(in.data());
    for (;;) {
      size_t room = avail_in + 1024;
      size_t base = out.size();
      out.resize(base + room);
      size_t avail_out = room;
      uint8_t* next_out = reinterpret_cast<uint8_t*>(out.data() + base);
      if (!BrotliEncoderCompressStream(s_, op, &avail_in, &next_in, &avail_out, &next_out, nullptr))
        return false;
      out.resize(base + (room - avail_out));
      if (avail_in == 0 && !BrotliEncoderHasMoreOutput(s_)) {
        if (op == BROTLI_OPERATION_FINISH ? BrotliEncoderIsFinished(s_) : true) return true;
      }
    }
  }

  BrotliEncoderState* s_;
};

}  // namespace

std::unique_ptr<Encoder> make_brotli_encoder(int quality) {
  auto e = std::make_unique<BrotliEncoder>(quality);
  if (!e->ok()) return nullptr;
  return e;
}

bool brotli_all(int quality, std::string_view in, std::string& out) {
  size_t base = out.size();
  size_t room = BrotliEncoderMaxCompressedSize(in.size());
  if (room == 0) room = in.size() + 1024;  // 0 means "too large to bound": stream instead
  out.resize(base + room);
  size_t written = room;
  if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, in.size(),
                             reinterpret_cast<const uint8_t*>(in.data()), &written,
                             reinterpret_cast<uint8_t*>(out.data() + base))) {
    out.resize(base);
    auto e = make_brotli_encoder(quality);
    return e && e->finish(in, out);
  }
  out.resize(base + written);
  return true;
}

}  // namespace fa::compress
