// Owning pointers for the OpenSSL and libjwt handles the auth component uses.
#pragma once

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <memory>

namespace fa::mcp::auth {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using JwtPtr = std::unique_ptr<jwt_t, Deleter<jwt_free>>;
// Strings libjwt hands out with malloc.
struct FreeDeleter {
  void operator()(char* p) const noexcept { std::free(p); }
};
using CStringPtr = std::unique_ptr<char, FreeDeleter>;

}  // namespace fa::mcp::auth
