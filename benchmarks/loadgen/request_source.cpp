#include "request_source.h"

namespace fa::loadgen {

std::string build_request(const Options& o, const std::string& path, const std::string& body,
                          const char* content_type) {
  std::string r;
  r.append(o.method).append(" ").append(path).append(" HTTP/1.1\r\nHost: ").append(o.host);
  if (o.port != 80) r.append(":").append(std::to_string(o.port));
  r += "\r\n";
  for (const std::string& h : o.headers) r += h + "\r\n";
  if (content_type) r += std::string("Content-Type: ") + content_type + "\r\n";
  if (!body.empty() || o.method == "POST" || o.method == "PUT" || o.method == "PATCH") {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += "\r\n";
  r += body;
  return r;
}

FixedSource::FixedSource(const Options& o)
    : budget_(o.requests), head_(o.method == "HEAD") {
  for (const std::string& p : o.paths) requests_.push_back(build_request(o, p, o.body));
}

int FixedSource::next(std::string* out, int count) {
  int64_t first = 0;
  int n = budget_.take(count, &first);
  for (int i = 0; i < n; ++i) out->append(request(static_cast<size_t>(first + i)));
  return n;
}

}  // namespace fa::loadgen
