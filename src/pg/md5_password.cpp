// md5_password: the MD5 challenge response, with OpenSSL's EVP MD5.
#include "pg/md5_password.h"

#include <openssl/evp.h>

namespace fa::pg {

static std::string md5_hex(std::string_view a, std::string_view b) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string md5_password(std::string_view user, std::string_view password, std::string_view salt) {
  return "md5" + md5_hex(md5_hex(password, user), salt);
}

}  // namespace fa::pg
