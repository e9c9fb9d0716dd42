// Tokens whose signature verified recently, so a client that sends the same token with every
// request (as MCP clients do) pays for the signature once. libjwt 1.10 decodes the PEM key on
// every verification, and OpenSSL 3.0's decoder makes that cost about a millisecond.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fa::mcp::auth {

class VerifiedCache {
 public:
  // Past this many tokens the expired ones are dropped, and if that frees nothing, all: a
  // flood of distinct valid tokens costs their signatures, never unbounded memory.
  static constexpr std::size_t kMaxEntries = 4096;  // ~100 bytes each

  // `ttl_seconds`: how long a verified signature is trusted without checking it again; a key
  // removed from the JWKS stops accepting its cached tokens within this. 0 disables.
  explicit VerifiedCache(std::int64_t ttl_seconds) : ttl_(ttl_seconds) {}

  // Whether `token` verified within the TTL (and before its exp, when it has one).
  bool contains(std::string_view token, std::int64_t now);
  // Records that `token`'s signature verified at `now`; `exp` bounds the entry's life.
  void insert(std::string_view token, std::int64_t now, std::optional<double> exp);

 private:
  std::int64_t ttl_;
  std::mutex mu_;                                          // guards entries_
  std::unordered_map<std::string, std::int64_t> entries_;  // SHA-256 of the token -> expiry
};

}  // namespace fa::mcp::auth
