// Whether a response may be compressed: its status, method, type, size and own headers
// (no I/O; the HTTP protocol asks this once per response).
#pragma once

#include <cstdint>
#include <string_view>

#include "compress/compression_config.h"

namespace fa::compress {

// True for media types worth compressing: text/*, JSON and XML (also +json/+xml suffixes),
// JavaScript, SVG, NDJSON, event streams, WASM. Parameters (";charset=") are ignored.
bool compressible_type(std::string_view content_type);

struct ResponseFacts {
  int status = 200;
  bool head_request = false;  // informational: a HEAD gets the same plan as a GET
  std::string_view content_type;
  std::string_view extra_headers;  // "Name: value\r\n" lines the handler set
  int64_t length = -1;             // body bytes; -1 = streamed, size unknown
};

struct Plan {
  bool vary = false;      // add `Vary: Accept-Encoding` (the response depends on it)
  bool compress = false;  // encode the body with the negotiated coding
};

// The plan for one response given the negotiated coding (kIdentity = client accepts none):
// never for 1xx/204/304 (no content), 206 or a Content-Range (ranges are of the identity
// body), a Content-Encoding already set (never twice), `Cache-Control: no-transform`
// (RFC 9111 §5.2.2.6), types outside compressible_type, or a known length below min_size.
// HEAD is planned exactly as GET (RFC 9110 §9.3.2: the same header fields); the protocol
// then sends no body.
Plan plan_response(const CompressionConfig& config, Coding negotiated, const ResponseFacts& r);

}  // namespace fa::compress
