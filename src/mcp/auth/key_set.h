// The keys a verifier trusts, looked up by the token's kid (RFC 7515 §4.1.4).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/auth/auth_error.h"
#include "mcp/auth/key.h"

namespace fa::mcp::auth {

class KeySet {
 public:
  KeySet() = default;
  explicit KeySet(std::vector<Key> keys) : keys_(std::move(keys)) {}

  void add(Key key) { keys_.push_back(std::move(key)); }

  // The key to verify a token with header kid (empty: none) and alg. With a kid: a key of
  // that id (kUnknownKey if none; kUnsupportedAlgorithm if it does not fit alg). Without:
  // the only key that fits alg (kUnknownKey if none or several).
  Checked<const Key*> select(std::string_view kid, const Algorithm& alg) const;

  std::size_t size() const noexcept { return keys_.size(); }
  const std::vector<Key>& keys() const noexcept { return keys_; }
  // Why JWK entries were left out (unknown kty, use "enc", ...): for logs.
  std::vector<std::string>& skipped() noexcept { return skipped_; }
  const std::vector<std::string>& skipped() const noexcept { return skipped_; }

 private:
  std::vector<Key> keys_;
  std::vector<std::string> skipped_;
};

// Parses a JWK Set document (RFC 7517 §5) into keys. Entries we cannot use for signature
// verification are skipped with a reason, not fatal. Throws std::invalid_argument if the text
// is not a JSON object with a "keys" array.
KeySet parse_jwks(std::string_view json);

}  // namespace fa::mcp::auth
