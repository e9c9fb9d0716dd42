// Command-line options of loadgen (wrk's names where wrk has one).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/event_loop.h"

namespace fa::loadgen {

struct Options {
  std::string host = "127.0.0.1";
  int port = 80;
  std::vector<std::string> paths{"/"};  // more than one: requests cycle through them
  std::string method = "GET";
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  int connections = 10;
  int threads = 1;
  int pipeline = 1;                   // requests written per batch (a batch after all answered)
  std::chrono::duration<double> duration{10};
  std::chrono::duration<double> warmup{0};
  std::chrono::duration<double> timeout{2};  // a response later than this counts as a timeout
  int64_t requests = 0;               // > 0: send exactly this many, then stop (no duration)
  bool json = false;
  bool onemrc = false;                // the 1 Million Request Challenge (see onemrc.h)
  int64_t users = 100'000;
  LoopBackend loop = default_loop_backend();
};

// Parses argv into *o; returns "" or the error to print with the usage.
std::string parse_options(int argc, char** argv, Options* o);
const char* usage();
// "10", "10s", "500ms", "2m" → seconds; false when malformed.
bool parse_duration(const std::string& text, std::chrono::duration<double>* out);
// "http://host:port/path", "host:port/path" or "host:port" → host, port, path.
bool parse_url(const std::string& url, std::string* host, int* port, std::string* path);

}  // namespace fa::loadgen
