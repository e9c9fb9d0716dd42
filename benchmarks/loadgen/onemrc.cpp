#include "onemrc.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "response_parser.h"
#include "worker.h"

namespace fa::loadgen {
namespace {

int64_t value_of(int64_t i) { return (i * 7) % 1000 + 1; }

// The number after "key": in a flat JSON object, or NaN.
double json_number(const std::string& body, const char* key) {
  size_t at = body.find(std::string("\"") + key + "\"");
  if (at == std::string::npos) return NAN;
  at = body.find(':', at);
  if (at == std::string::npos) return NAN;
  return std::strtod(body.c_str() + at + 1, nullptr);
}

}  // namespace

int OneMrcSource::next(std::string* out, int count) {
  int64_t first = 0;
  int n = budget_.take(count, &first);
  for (int k = 0; k < n; ++k) {
    int64_t i = first + k;
    std::string body = "{\"userId\":\"user-" + std::to_string(i % o_.users) +
                       "\",\"value\":" + std::to_string(value_of(i)) + "}";
    out->append(build_request(o_, o_.paths[0], body, "application/json"));
  }
  return n;
}

OneMrcTotals onemrc_expected(const Options& o) {
  OneMrcTotals t;
  t.count = static_cast<double>(o.requests);
  t.users = static_cast<double>(std::min(o.requests, o.users));
  for (int64_t i = 0; i < o.requests; ++i) t.sum += static_cast<double>(value_of(i));
  return t;
}

bool onemrc_fetch(const Options& o, const Target& target, OneMrcTotals* got, std::string* body,
                  std::string* error) {
  int fd = ::socket(target.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "socket failed";
    return false;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req = "GET /stats HTTP/1.1\r\nHost: " + o.host + "\r\nConnection: close\r\n\r\n";
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&target.addr), target.len) == 0 &&
            ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  std::string in;
  char buf[16384];
  while (ok) {
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    in.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  ResponseParser p;
  size_t used = 0;
  ResponseParser::Result res = p.feed(in, &used);
  if (res != ResponseParser::Result::kDone && !p.finish()) {
    *error = ok ? "no complete response to GET /stats" : "cannot reach the server";
    return false;
  }
  if (p.status() != 200) {
    *error = "GET /stats answered " + std::to_string(p.status());
    return false;
  }
  size_t head_end = in.find("\r\n\r\n");
  *body = in.substr(head_end + 4, used - head_end - 4);
  got->count = json_number(*body, "totalRequests");
  got->users = json_number(*body, "uniqueUsers");
  got->sum = json_number(*body, "sum");
  return true;
}

}  // namespace fa::loadgen
