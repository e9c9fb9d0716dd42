// ResponseCompressor: applies the server's CompressionConfig to one HTTP/1.1 exchange —
// negotiates from the request's Accept-Encoding, rewrites the response head (Content-Encoding,
// Vary, no Content-Length for streams) and encodes the body, whole or per written chunk.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "compress/compression_config.h"
#include "compress/encoder.h"
#include "http/h1_parser.h"
#include "http/response.h"

namespace fa::http {

class ResponseCompressor {
 public:
  // Starts an exchange: reads every Accept-Encoding line of `req` (RFC 9110 §5.3: one list).
  void begin(const compress::CompressionConfig& config, const RequestHead& req);
  // A complete response: may replace head.extra_headers and body with views into this object
  // (valid until the next call). `head_only`: a HEAD request, whose head is a GET's: the body
  // is encoded as for GET, so the caller's Content-Length is the encoded size.
  void on_send(ResponseHead& head, std::string_view& body, bool head_only);
  // A streamed response: may replace head.extra_headers; clears `has_length` when a
  // Content-Length was dropped because the body will be encoded (then it goes chunked). For
  // HEAD the head is rewritten the same way but no encoder starts (encoding() stays false).
  void on_start(ResponseHead& head, bool head_only, bool& has_length);
  bool encoding() const { return encoder_ != nullptr; }
  // Sets `out` to the encoded, flushed form of one chunk (only while encoding()); false on a
  // codec error (the caller closes the connection: the stream cannot be continued).
  bool on_write(std::string_view chunk, std::string_view& out);
  // The end of the encoded stream (trailer); false on a codec error.
  bool on_end(std::string_view& out);
  void reset() { encoder_.reset(); }

 private:
  const compress::CompressionConfig* config_ = nullptr;
  compress::Coding coding_ = compress::Coding::kIdentity;
  std::unique_ptr<compress::Encoder> encoder_;
  std::string headers_;  // rewritten extra header lines
  std::string out_;      // encoded bytes (capacity kept across responses)
};

}  // namespace fa::http
