// parse_dsn: the URI form of a libpq connection string (§34.1.1.2).
#include "pg/pg_config.h"

#include <charconv>
#include <stdexcept>

namespace fa::pg {

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(std::string_view s, const char* what) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      throw std::invalid_argument(std::string("DSN: bad percent-encoding in ") + what);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (out.find('\0') != std::string::npos)
    throw std::invalid_argument(std::string("DSN: NUL in ") + what);
  return out;
}

uint16_t parse_port(std::string_view s) {
  unsigned v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v == 0 || v > 65535)
    throw std::invalid_argument("DSN: port must be a number from 1 to 65535");
  return static_cast<uint16_t>(v);
}
}  // namespace

Config parse_dsn(std::string_view dsn) {
  Config c;
  std::string_view rest;
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (dsn.substr(0, scheme.size()) == scheme) rest = dsn.substr(scheme.size());
  }
  if (rest.data() == nullptr)
    throw std::invalid_argument("DSN must start with postgresql:// or postgres://");
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  if (size_t s = rest.find('/'); s != std::string_view::npos) {
    path = rest.substr(s + 1);
    rest = rest.substr(0, s);
  }
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    c.user = decode(userinfo.substr(0, colon), "user");
    if (colon != std::string_view::npos)
      c.password = decode(userinfo.substr(colon + 1), "password");
  }
  // host[:port], IPv6 in brackets.
  std::string_view hostport = rest, portpart;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos)
      throw std::invalid_argument("DSN: unterminated [IPv6] host");
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw std::invalid_argument("DSN: junk after [IPv6] host");
      portpart = after.substr(1);
      if (portpart.empty()) throw std::invalid_argument("DSN: empty port");
    }
    hostport = hostport.substr(1, close - 1);
  } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    portpart = hostport.substr(colon + 1);
    if (portpart.empty()) throw std::invalid_argument("DSN: empty port");
    hostport = hostport.substr(0, colon);
  }
  if (!hostport.empty()) c.host = decode(hostport, "host");
  if (!portpart.empty()) c.port = parse_port(portpart);
  if (!path.empty()) c.database = decode(path, "database");
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos)
      throw std::invalid_argument("DSN: parameter without '=': " + std::string(kv));
    std::string k = decode(kv.substr(0, eq), "parameter name");
    std::string v = decode(kv.substr(eq + 1), "parameter value");
    if (k == "host") {
      c.host = v;
    } else if (k == "port") {
      c.port = parse_port(v);
    } else if (k == "user") {
      c.user = v;
    } else if (k == "password") {
      c.password = v;
    } else if (k == "dbname") {
      c.database = v;
    } else if (k == "connect_timeout") {
      long secs = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), secs);
      if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size() || secs < 0 ||
          secs > 86'400)
        throw std::invalid_argument("DSN: connect_timeout must be whole seconds (0 to 86400)");
      if (secs > 0) c.connect_timeout = std::chrono::seconds(secs);
    } else if (k == "sslmode") {
      if (v != "disable" && v != "allow" && v != "prefer")
        throw std::invalid_argument(
            "DSN: sslmode=" + v +
            " needs TLS, which the C++ client does not speak yet (use disable or prefer)");
    } else {
      if (k.empty()) throw std::invalid_argument("DSN: empty parameter name");
      c.options.emplace_back(std::move(k), std::move(v));
    }
  }
  return c;
}

}  // namespace fa::pg
