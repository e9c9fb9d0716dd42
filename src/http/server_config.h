// ServerConfig: listen address, limits and timeouts, each with its unit and default.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "compress/compression_config.h"
#include "core/event_loop.h"
#include "http/h1_parser.h"
#include "tls/tls_config.h"

namespace fa::http {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;          // 0 = ephemeral
  bool reuse_port = false;       // SO_REUSEPORT: several processes share the port
  int backlog = 1024;            // listen(2) queue length
  ParserLimits limits;           // 414/431/413 thresholds
  Duration header_timeout = std::chrono::seconds(10);     // first byte → end of head (slowloris)
  Duration keep_alive_timeout = std::chrono::seconds(5);  // idle between requests
  Duration body_timeout = std::chrono::seconds(30);       // end of head → end of body
  Duration linger_timeout = std::chrono::seconds(2);      // drain input after a final response
  Duration send_timeout = std::chrono::seconds(30);       // queued output with no progress
  size_t write_high_water = 1024 * 1024;  // bytes queued before reading/producing pauses
  size_t write_low_water = 256 * 1024;    // bytes queued at which producers resume
  size_t read_chunk = 64 * 1024;          // bytes per read(2)
  // Response compression by Accept-Encoding (off unless codings are set); see docs/http-server.md.
  compress::CompressionConfig compression;
  // TLS on this listener when certificates are set (src/tls; docs/http-server.md "TLS").
  tls::TlsConfig tls;
};

}  // namespace fa::http
