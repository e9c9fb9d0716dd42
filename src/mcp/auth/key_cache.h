// The verifier's current KeySet: fixed, or refreshed from a JWKS source at an interval and,
// rate-limited, when a token names a kid we do not know (key rotation).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mcp/auth/key_set.h"

namespace fa::mcp::auth {

// Fetches the JWKS document (file, URL, ...); nullopt when it cannot. The core does no I/O:
// callers plug in their own fetcher, or push documents with KeyCache::install.
using JwksFetch = std::function<std::optional<std::string>()>;

struct KeyCacheOptions {
  // Re-fetch the JWKS this often even without an unknown kid: 5 minutes.
  std::chrono::seconds refresh_interval{300};
  // At most one extra fetch per this interval for unknown kids, so tokens with made-up kids
  // cannot make us hammer the authorization server: 30 seconds.
  std::chrono::seconds min_refresh_interval{30};
};

class KeyCache {
 public:
  // Fixed keys, never refreshed.
  explicit KeyCache(KeySet keys);
  // Keys from `fetch`, fetched on first use and then per `options`. fetch may be empty: the
  // owner then installs documents itself (e.g. from a background thread).
  KeyCache(JwksFetch fetch, KeyCacheOptions options);

  // The keys to use at `now` (unix seconds); fetches first if a refresh is due.
  std::shared_ptr<const KeySet> keys(std::int64_t now);
  // Called after a kid was not found: re-fetches unless one happened within
  // min_refresh_interval. Returns the keys to retry with, or nullptr when nothing changed.
  std::shared_ptr<const KeySet> refresh_for_unknown_kid(std::int64_t now);

  // Replaces the keys with a parsed JWKS document. On a parse error throws
  // std::invalid_argument and keeps the previous keys.
  std::size_t install(std::string_view jwks_json, std::int64_t now);
  // Whether a periodic refresh is due at `now` (for owners that fetch themselves).
  bool refresh_due(std::int64_t now) const;

 private:
  bool fetch_and_install(std::int64_t now);

  JwksFetch fetch_;
  KeyCacheOptions options_;
  mutable std::mutex mu_;  // guards the members below
  std::shared_ptr<const KeySet> keys_;
  // Unix seconds of the last install and the last fetch attempt; "long ago" at first.
  std::int64_t installed_at_ = INT64_MIN / 2;
  std::int64_t attempted_at_ = INT64_MIN / 2;
  bool fixed_ = false;
  std::mutex fetch_mu_;  // one fetch at a time
};

}  // namespace fa::mcp::auth
