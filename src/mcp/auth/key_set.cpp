// KeySet lookup by kid and alg.
#include "mcp/auth/key_set.h"

namespace fa::mcp::auth {

Checked<const Key*> KeySet::select(std::string_view kid, const Algorithm& alg) const {
  std::string why;
  if (!kid.empty()) {
    const Key* named = nullptr;
    for (const Key& k : keys_) {
      if (k.kid != kid) continue;
      if (key_fits(k, alg, &why)) return &k;
      named = &k;
    }
    if (named) return fail(AuthError::kUnsupportedAlgorithm, why);
    return fail(AuthError::kUnknownKey, "no key with the token's kid");
  }
  const Key* only = nullptr;
  for (const Key& k : keys_) {
    if (!key_fits(k, alg, &why)) continue;
    if (only) return fail(AuthError::kUnknownKey, "the token has no kid and several keys fit");
    only = &k;
  }
  if (only) return only;
  if (keys_.size() == 1) return fail(AuthError::kUnsupportedAlgorithm, why);
  return fail(AuthError::kUnknownKey, "the token has no kid and no key fits its alg");
}

}  // namespace fa::mcp::auth
