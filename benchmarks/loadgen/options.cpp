#include "options.h"

#include <cstdlib>
#include <string_view>

namespace fa::loadgen {

const char* usage() {
  return "usage: loadgen [options] URL          (URL: [http://]host:port[/path])\n"
         "  -c, --connections N   open connections (default 10)\n"
         "  -t, --threads N       threads, each with its own loop and c/N connections (1)\n"
         "  -d, --duration T      measured time: 10, 10s, 500ms, 2m (default 10s)\n"
         "  -p, --pipeline N      requests per write, next batch once all are answered (1)\n"
         "      --warmup T        load before measuring, not counted (default 0)\n"
         "      --timeout T       a response later than this is a timeout (default 2s)\n"
         "  -m, --method M        request method (default GET)\n"
         "  -b, --body S          request body (sent with Content-Length)\n"
         "  -H, --header 'N: V'   extra request header (repeatable)\n"
         "      --path P          another path; requests cycle through URL's and these\n"
         "  -n, --requests N      send exactly N requests, then stop (instead of -d)\n"
         "      --loop B          epoll | uring | auto (default: FASTERAPI_LOOP, else epoll)\n"
         "      --json            print a JSON summary as the last line\n"
         "      --1mrc            the 1 Million Request Challenge: POST /event x N (default\n"
         "                        1,000,000 over 1000 connections), then check GET /stats\n"
         "      --users N         distinct userIds in --1mrc (default 100000)\n";
}

bool parse_duration(const std::string& text, std::chrono::duration<double>* out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return false;
  std::string_view unit(end);
  if (unit.empty() || unit == "s") *out = std::chrono::duration<double>(v);
  else if (unit == "ms") *out = std::chrono::duration<double>(v / 1000);
  else if (unit == "m") *out = std::chrono::duration<double>(v * 60);
  else return false;
  return true;
}

bool parse_url(const std::string& url, std::string* host, int* port, std::string* path) {
  std::string_view u(url);
  if (u.substr(0, 7) == "http://") u.remove_prefix(7);
  else if (u.find("://") != std::string_view::npos) return false;  // https is not supported
  size_t slash = u.find('/');
  std::string_view authority = u.substr(0, slash);
  *path = slash == std::string_view::npos ? "/" : std::string(u.substr(slash));
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    *port = 80;
    *host = std::string(authority);
  } else {
    std::string p(authority.substr(colon + 1));
    char* end = nullptr;
    long n = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || n <= 0 || n > 65535) return false;
    *port = static_cast<int>(n);
    *host = std::string(authority.substr(0, colon));
  }
  return !host->empty();
}

std::string parse_options(int argc, char** argv, Options* o) {
  std::string url;
  std::vector<std::string> extra_paths;
  bool connections_set = false, requests_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    auto number = [&](int64_t* out, int64_t min) {
      std::string v;
      if (!value(&v)) return false;
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < min) return false;
      *out = n;
      return true;
    };
    int64_t n = 0;
    std::string v;
    if (a == "-c" || a == "--connections") {
      if (!number(&n, 1)) return "bad -c";
      o->connections = static_cast<int>(n);
      connections_set = true;
    } else if (a == "-t" || a == "--threads") {
      if (!number(&n, 1)) return "bad -t";
      o->threads = static_cast<int>(n);
    } else if (a == "-p" || a == "--pipeline") {
      if (!number(&n, 1)) return "bad -p";
      o->pipeline = static_cast<int>(n);
    } else if (a == "-n" || a == "--requests") {
      if (!number(&n, 1)) return "bad -n";
      o->requests = n;
      requests_set = true;
    } else if (a == "--users") {
      if (!number(&n, 1)) return "bad --users";
      o->users = n;
    } else if (a == "-d" || a == "--duration") {
      if (!value(&v) || !parse_duration(v, &o->duration)) return "bad -d";
    } else if (a == "--warmup") {
      if (!value(&v) || !parse_duration(v, &o->warmup)) return "bad --warmup";
    } else if (a == "--timeout") {
      if (!value(&v) || !parse_duration(v, &o->timeout) || o->timeout.count() <= 0) {
        return "bad --timeout";
      }
    } else if (a == "-m" || a == "--method") {
      if (!value(&o->method) || o->method.empty()) return "bad -m";
    } else if (a == "-b" || a == "--body") {
      if (!value(&o->body)) return "bad -b";
    } else if (a == "-H" || a == "--header") {
      if (!value(&v) || v.find(':') == std::string::npos) return "bad -H (want 'Name: value')";
      o->headers.push_back(v);
    } else if (a == "--path") {
      if (!value(&v) || v.empty() || v[0] != '/') return "bad --path (want /...)";
      extra_paths.push_back(v);
    } else if (a == "--loop") {
      if (!value(&v) || !parse_loop_backend(v, &o->loop)) return "bad --loop";
    } else if (a == "--json") {
      o->json = true;
    } else if (a == "--1mrc") {
      o->onemrc = true;
    } else if (!a.empty() && a[0] == '-') {
      return "unknown option " + std::string(a);
    } else if (url.empty()) {
      url = std::string(a);
    } else {
      return "more than one URL";
    }
  }
  if (url.empty()) return "no URL";
  std::string path;
  if (!parse_url(url, &o->host, &o->port, &path)) return "bad URL " + url;
  o->paths.assign(1, path);
  o->paths.insert(o->paths.end(), extra_paths.begin(), extra_paths.end());
  if (o->onemrc) {
    if (!connections_set) o->connections = 1000;
    if (!requests_set) o->requests = 1'000'000;
    o->method = "POST";
  }
  if (o->threads > o->connections) return "more threads than connections";
  return "";
}

}  // namespace fa::loadgen
