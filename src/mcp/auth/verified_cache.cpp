// VerifiedCache: SHA-256 of recently verified tokens with their expiry.
#include "mcp/auth/verified_cache.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace fa::mcp::auth {
namespace {

// The whole token is the key (as its digest): a token differing in any byte is verified anew.
std::string digest(std::string_view token) {
  std::string d(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         reinterpret_cast<unsigned char*>(d.data()));
  return d;
}

}  // namespace

bool VerifiedCache::contains(std::string_view token, std::int64_t now) {
  if (ttl_ <= 0) return false;
  std::string key = digest(token);
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it != entries_.end() && now < it->second;
}

void VerifiedCache::insert(std::string_view token, std::int64_t now, std::optional<double> exp) {
  if (ttl_ <= 0) return;
  std::int64_t until = now + ttl_;
  if (exp && *exp < static_cast<double>(until)) until = static_cast<std::int64_t>(std::ceil(*exp));
  std::string key = digest(token);
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries) {
    std::erase_if(entries_, [now](const auto& e) { return now >= e.second; });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }
  entries_[std::move(key)] = until;
}

}  // namespace fa::mcp::auth
