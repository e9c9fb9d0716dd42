// zlib glue for permessage-deflate (RFC 7692 §7.2): raw deflate (negative windowBits),
// Z_SYNC_FLUSH at each message end, context kept or reset per the negotiated parameters.
#include "ws/deflater.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace fa::ws {

namespace {
constexpr char kTail[4] = {0x00, 0x00, char(0xFF), char(0xFF)};  // §7.2.1 empty stored block
constexpr size_t kInflateStep = 64 * 1024;  // bytes of output room added per inflate() call
constexpr int kMemLevel = 8;                // zlib default: 128 KiB of compressor state
}  // namespace

struct Deflater::Stream {
  z_stream s{};
};
struct Inflater::Stream {
  z_stream s{};
};

Deflater::Deflater(const DeflateParams& params, int level)
    : z_(std::make_unique<Stream>()), reset_each_message_(params.server_no_context_takeover) {
  // zlib cannot make a raw stream with an 8-bit window; a 9-bit one never reaches back more
  // than 250 bytes (w_size - MIN_LOOKAHEAD), so it is valid for a peer that allows 256.
  int bits = std::max(params.server_max_window_bits, 9);
  if (deflateInit2(&z_->s, std::clamp(level, 0, 9), Z_DEFLATED, -bits, kMemLevel,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::bad_alloc();
}

Deflater::~Deflater() {
  deflateEnd(&z_->s);
}

bool Deflater::compress(std::string_view message, std::string& out) {
  z_stream& s = z_->s;
  out.clear();
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  s.avail_in = static_cast<uInt>(message.size());
  size_t step = std::max<size_t>(deflateBound(&s, message.size()) + 16, 64);
  do {
    size_t old = out.size();
    out.resize(old + step);
    s.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    s.avail_out = static_cast<uInt>(step);
    int rc = deflate(&s, Z_SYNC_FLUSH);
    out.resize(old + step - s.avail_out);
    if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
  } while (s.avail_out == 0);
  if (out.size() >= 4 && std::memcmp(out.data() + out.size() - 4, kTail, 4) == 0)
    out.resize(out.size() - 4);
  // §7.2.3.6: an empty message is the single octet 0x00 (zlib emits nothing for a flush with
  // no new input; an empty payload would desynchronise the peer's inflater).
  if (out.empty()) out.push_back('\0');
  if (reset_each_message_) deflateReset(&s);
  return true;
}

Inflater::Inflater(const DeflateParams& params)
    : z_(std::make_unique<Stream>()), reset_each_message_(params.client_no_context_takeover) {
  // A 15-bit window inflates anything a peer with a smaller window sends.
  if (inflateInit2(&z_->s, -15) != Z_OK) throw std::bad_alloc();
}

Inflater::~Inflater() {
  inflateEnd(&z_->s);
}

Inflater::Result Inflater::run(std::string_view data, std::string& out, size_t max_total) {
  z_stream& s = z_->s;
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  for (;;) {
    size_t room = std::min(kInflateStep, max_total + 1 - out.size());  // +1: detect overflow
    size_t old = out.size();
    out.resize(old + room);
    s.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    s.avail_out = static_cast<uInt>(room);
    int rc = ::inflate(&s, Z_SYNC_FLUSH);
    out.resize(old + room - s.avail_out);
    if (out.size() > max_total) return Result::kTooBig;
    if (rc == Z_STREAM_END) {
      inflateReset(&s);  // a BFINAL block ended the stream; what follows starts a new one
      if (s.avail_in == 0) break;
      continue;
    }
    if (rc == Z_BUF_ERROR) break;  // no progress possible: all input used
    if (rc != Z_OK) return Result::kError;
    if (s.avail_in == 0 && s.avail_out != 0) break;  // all input used, all output out
  }
  return Result::kOk;
}

Inflater::Result Inflater::inflate(std::string_view data, bool final, std::string& out,
                                   size_t max_total) {
  Result r = run(data, out, max_total);
  if (r != Result::kOk || !final) return r;
  r = run(std::string_view(kTail, 4), out, max_total);
  if (r == Result::kOk && reset_each_message_) inflateReset(&z_->s);
  return r;
}

}  // namespace fa::ws
