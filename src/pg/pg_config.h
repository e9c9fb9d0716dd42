// Config: where and how the C++ client connects, and parse_dsn() for postgresql:// URIs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fa::pg {

struct Config {
  // A numeric IPv4/IPv6 address, "localhost", or a Unix socket directory (starts with '/';
  // the socket is <dir>/.s.PGSQL.<port>, §34.1.1). Names are not resolved: DNS would block
  // the loop.
  std::string host = "127.0.0.1";
  uint16_t port = 5432;
  std::string user = "postgres";
  std::string password;  // for cleartext, MD5 and SCRAM-SHA-256; unused with trust
  std::string database;  // empty = the user's name (the server's default)
  std::chrono::milliseconds connect_timeout{10'000};  // socket connect + startup + auth
  size_t statement_cache_size = 256;  // prepared statements kept per connection (LRU beyond)
  std::vector<std::pair<std::string, std::string>> options;  // more startup parameters
};

// Parses postgres[ql]://[user[:password]@][host][:port][/database][?name=value&...]
// (§34.1.1.2; percent-encoding decoded; host "%2Fdir" or ?host=/dir is a socket directory;
// connect_timeout in seconds; application_name and other names become startup parameters).
// sslmode disable/allow/prefer connect in plain text (this client has no TLS yet); require
// and verify-* are refused. Throws std::invalid_argument saying what is wrong.
Config parse_dsn(std::string_view dsn);

}  // namespace fa::pg
