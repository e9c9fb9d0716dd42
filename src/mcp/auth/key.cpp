// Keys from PEM, secrets and JWK members, built with OpenSSL 3's decoder and fromdata APIs.
#include "mcp/auth/key.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <array>
#include <stdexcept>
#include <utility>

#include "mcp/auth/ossl_ptr.h"

namespace fa::mcp::auth {
namespace {

// Throws; OpenSSL's error queue is cleared so its entries do not surface in unrelated calls.
[[noreturn]] void throw_key_error(const std::string& message) {
  ERR_clear_error();
  throw std::invalid_argument(message);
}

struct Curve {
  std::string_view jwk_name;  // RFC 7518 §6.2.1.1
  const char* group;          // OpenSSL's group name
  std::size_t coordinate_bytes;
};
constexpr std::array<Curve, 3> kCurves{{
    {"P-256", "prime256v1", 32},
    {"P-384", "secp384r1", 48},
    {"P-521", "secp521r1", 66},
}};

std::string spki_pem(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) {
    throw_key_error("key: cannot write the public key as PEM");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// Types the OpenSSL key and re-exports it as SPKI PEM, the one form libjwt 1.10 reads.
Key describe(EVP_PKEY* pkey, std::string kid) {
  Key key;
  key.kid = std::move(kid);
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
      key.type = KeyType::kRsa;
      key.bits = EVP_PKEY_get_bits(pkey);
      if (key.bits < kMinRsaBits) {
        throw_key_error("key: RSA key of " + std::to_string(key.bits) +
                        " bits; RFC 7518 §3.3 needs 2048 or more");
      }
      break;
    case EVP_PKEY_EC: {
      key.type = KeyType::kEc;
      std::array<char, 64> group{};
      std::size_t len = 0;
      if (EVP_PKEY_get_group_name(pkey, group.data(), group.size(), &len) != 1) {
        throw_key_error("key: EC key without a named curve");
      }
      for (const Curve& c : kCurves) {
        if (std::string_view(group.data(), len) == c.group) key.curve = c.jwk_name;
      }
      if (key.curve.empty()) {
        throw_key_error("key: EC curve " + std::string(group.data(), len) +
                        " is not P-256, P-384 or P-521");
      }
      break;
    }
    default:
      throw_key_error("key: only RSA and EC public keys are supported");
  }
  key.material = spki_pem(pkey);
  return key;
}

PkeyPtr decode_public_pem(std::string_view pem) {
  EVP_PKEY* raw = nullptr;
  OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, nullptr,
                                                         EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
  if (dctx) {
    auto* data = reinterpret_cast<const unsigned char*>(pem.data());
    std::size_t len = pem.size();
    OSSL_DECODER_from_data(dctx, &data, &len);
    OSSL_DECODER_CTX_free(dctx);
  }
  if (raw) return PkeyPtr(raw);
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  return PkeyPtr(cert ? X509_get_pubkey(cert.get()) : nullptr);
}

// Runs EVP_PKEY_fromdata for a public key of `type` ("RSA" or "EC") from built params.
PkeyPtr pkey_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return PkeyPtr(raw);
}

}  // namespace

bool key_fits(const Key& key, const Algorithm& alg, std::string* why) {
  auto refuse = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  if (key.type != alg.key_type) {
    static constexpr std::array<const char*, 3> kNames{"an HMAC secret", "an RSA key", "an EC key"};
    return refuse("alg " + std::string(alg.name) + " does not fit " +
                  kNames[static_cast<std::size_t>(key.type)]);
  }
  if (!key.alg.empty() && key.alg != alg.name) {
    return refuse("the key is for " + key.alg + ", not " + std::string(alg.name));
  }
  if (key.type == KeyType::kEc && key.curve != alg.curve) {
    return refuse("alg " + std::string(alg.name) + " needs curve " + std::string(alg.curve) +
                  ", the key is " + key.curve);
  }
  if (key.type == KeyType::kSecret && key.material.size() < alg.min_secret) {
    return refuse("the secret is shorter than " + std::to_string(alg.min_secret) + " bytes");
  }
  return true;
}

Key key_from_pem(std::string_view pem, std::string kid) {
  PkeyPtr pkey = decode_public_pem(pem);
  if (!pkey) throw_key_error("key: no public key or certificate in the PEM text");
  return describe(pkey.get(), std::move(kid));
}

Key key_from_secret(std::string_view secret, std::string kid) {
  if (secret.empty()) throw_key_error("key: empty HMAC secret");
  if (secret.find("-----BEGIN") != std::string_view::npos) {
    throw_key_error(
        "key: the HMAC secret is PEM text; configure a public key as a public key, not a secret");
  }
  Key key;
  key.kid = std::move(kid);
  key.type = KeyType::kSecret;
  key.material = std::string(secret);
  return key;
}

Key rsa_key_from_components(std::string_view n, std::string_view e, std::string kid) {
  auto bn = [](std::string_view bytes) {
    return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                               static_cast<int>(bytes.size()), nullptr));
  };
  BignumPtr bn_n = bn(n), bn_e = bn(e);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || BN_is_zero(bn_n.get()) || BN_is_zero(bn_e.get()) ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    throw_key_error("key: bad RSA n or e");
  }
  PkeyPtr pkey = pkey_from_params("RSA", bld.get());
  if (!pkey) throw_key_error("key: OpenSSL refused the RSA n and e");
  return describe(pkey.get(), std::move(kid));
}

Key ec_key_from_coordinates(std::string_view crv, std::string_view x, std::string_view y,
                            std::string kid) {
  const Curve* curve = nullptr;
  for (const Curve& c : kCurves) {
    if (c.jwk_name == crv) curve = &c;
  }
  if (!curve) throw_key_error("key: unsupported EC curve " + std::string(crv));
  // RFC 7518 §6.2.1.2: x and y are the full coordinate length, left-padded with zeros.
  if (x.size() != curve->coordinate_bytes || y.size() != curve->coordinate_bytes) {
    throw_key_error("key: EC x and y must be " + std::to_string(curve->coordinate_bytes) +
                    " bytes for " + std::string(crv));
  }
  std::string point;  // SEC 1 §2.3.3 uncompressed point: 0x04 || x || y
  point.reserve(1 + x.size() + y.size());
  point.push_back('\x04');
  point.append(x).append(y);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    throw_key_error("key: cannot build EC parameters");
  }
  PkeyPtr pkey = pkey_from_params("EC", bld.get());
  PkeyCtxPtr check(pkey ? EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr) : nullptr);
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    throw_key_error("key: the EC point is not on curve " + std::string(crv));
  }
  return describe(pkey.get(), std::move(kid));
}

}  // namespace fa::mcp::auth
