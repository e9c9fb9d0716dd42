// Deflater / Inflater: permessage-deflate's compression of whole messages (RFC 7692 §7.2)
// on zlib raw deflate streams.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "ws/deflate_params.h"

namespace fa::ws {

class Deflater {
 public:
  // `level`: zlib's 0 (stored) .. 9 (smallest), clamped. Throws std::bad_alloc.
  explicit Deflater(const DeflateParams& params, int level = 6);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Compresses one message into `out` (replaced), without the final 00 00 FF FF (§7.2.1).
  // Returns false on a zlib error (the message should then be sent uncompressed).
  bool compress(std::string_view message, std::string& out);

 private:
  struct Stream;
  std::unique_ptr<Stream> z_;
  bool reset_each_message_;
};

class Inflater {
 public:
  explicit Inflater(const DeflateParams& params);  // throws std::bad_alloc
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  enum class Result { kOk, kTooBig, kError };
  // Inflates one frame's payload of a compressed message, appending to `out`; on the
  // message's last frame (`final`) also the 00 00 FF FF tail (§7.2.2). kTooBig as soon as
  // `out` would pass `max_total` bytes (zip bombs stop there), kError on corrupt data.
  Result inflate(std::string_view data, bool final, std::string& out, size_t max_total);

 private:
  Result run(std::string_view data, std::string& out, size_t max_total);
  struct Stream;
  std::unique_ptr<Stream> z_;
  bool reset_each_message_;
};

}  // namespace fa::ws
