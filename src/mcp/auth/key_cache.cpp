// KeyCache: the current keys, refreshed on an interval and on unknown kids.
#include "mcp/auth/key_cache.h"

#include <stdexcept>
#include <utility>

namespace fa::mcp::auth {

KeyCache::KeyCache(KeySet keys)
    : keys_(std::make_shared<const KeySet>(std::move(keys))), fixed_(true) {}

KeyCache::KeyCache(JwksFetch fetch, KeyCacheOptions options)
    : fetch_(std::move(fetch)), options_(options), keys_(std::make_shared<const KeySet>()) {}

std::size_t KeyCache::install(std::string_view jwks_json, std::int64_t now) {
  auto parsed = std::make_shared<const KeySet>(parse_jwks(jwks_json));
  std::lock_guard lock(mu_);
  keys_ = parsed;
  installed_at_ = now;
  fixed_ = false;
  return parsed->size();
}

bool KeyCache::refresh_due(std::int64_t now) const {
  std::lock_guard lock(mu_);
  if (fixed_) return false;
  return now - installed_at_ >= options_.refresh_interval.count();
}

bool KeyCache::fetch_and_install(std::int64_t now) {
  if (!fetch_) return false;
  std::lock_guard fetching(fetch_mu_);
  {
    std::lock_guard lock(mu_);
    // Another thread fetched while we waited for fetch_mu_.
    if (now - attempted_at_ < options_.min_refresh_interval.count()) return false;
    attempted_at_ = now;
  }
  std::optional<std::string> doc = fetch_();
  if (!doc) return false;
  try {
    install(*doc, now);
  } catch (const std::invalid_argument&) {
    return false;  // keep the keys we have; the next interval tries again
  }
  return true;
}

std::shared_ptr<const KeySet> KeyCache::keys(std::int64_t now) {
  if (refresh_due(now)) fetch_and_install(now);
  std::lock_guard lock(mu_);
  return keys_;
}

std::shared_ptr<const KeySet> KeyCache::refresh_for_unknown_kid(std::int64_t now) {
  {
    std::lock_guard lock(mu_);
    if (fixed_) return nullptr;
  }
  if (!fetch_and_install(now)) return nullptr;
  std::lock_guard lock(mu_);
  return keys_;
}

}  // namespace fa::mcp::auth
