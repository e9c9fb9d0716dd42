// ScramClient: SCRAM-SHA-256 with OpenSSL (PBKDF2, HMAC-SHA-256, SHA-256).
#include "pg/scram_client.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <cstring>

namespace fa::pg {

namespace {
constexpr size_t kNonceBytes = 18;       // random bytes before base64, as libpq uses
constexpr int kMaxIterations = 1 << 24;  // refuse absurd server-requested PBKDF2 counts

std::string hmac(std::string_view key, std::string_view msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string sha256(std::string_view in) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

// Finds attribute "k=" in a comma-separated SCRAM message.
bool attr(std::string_view msg, char k, std::string_view& v) {
  size_t pos = 0;
  while (pos <= msg.size()) {
    size_t end = msg.find(',', pos);
    if (end == std::string_view::npos) end = msg.size();
    std::string_view part = msg.substr(pos, end - pos);
    if (part.size() >= 2 && part[0] == k && part[1] == '=') { v = part.substr(2); return true; }
    pos = end + 1;
  }
  return false;
}
}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool base64_decode(std::string_view in, std::string& out) {
  if (in.size() % 4 != 0) return false;
  out.assign(3 * in.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return true;
}

ScramClient::ScramClient(std::string user, std::string password, std::string client_nonce)
    : password_(std::move(password)), nonce_(std::move(client_nonce)) {
  if (nonce_.empty()) {
    unsigned char raw[kNonceBytes];
    RAND_bytes(raw, sizeof raw);
    nonce_ = base64_encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  }
  client_first_bare_ = "n=" + user + ",r=" + nonce_;
  client_first_ = "n,," + client_first_bare_;
}

std::string ScramClient::client_final(std::string_view server_first) {
  std::string_view r, s, i;
  if (!attr(server_first, 'r', r) || !attr(server_first, 's', s) || !attr(server_first, 'i', i)) {
    error_ = "SCRAM: malformed server-first-message";
    return {};
  }
  if (r.substr(0, nonce_.size()) != nonce_ || r.size() <= nonce_.size()) {
    error_ = "SCRAM: server nonce does not extend the client nonce";
    return {};
  }
  int iterations = 0;
  auto [p, ec] = std::from_chars(i.data(), i.data() + i.size(), iterations);
  if (ec != std::errc() || iterations <= 0 || iterations > kMaxIterations) {
    error_ = "SCRAM: bad iteration count";
    return {};
  }
  std::string salt;
  if (!base64_decode(s, salt)) {
    error_ = "SCRAM: bad salt";
    return {};
  }
  unsigned char salted[SHA256_DIGEST_LENGTH];
  PKCS5_PBKDF2_HMAC(password_.data(), static_cast<int>(password_.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    iterations, EVP_sha256(), sizeof salted, salted);
  std::string_view salted_sv(reinterpret_cast<char*>(salted), sizeof salted);
  std::string client_key = hmac(salted_sv, "Client Key");
  std::string stored_key = sha256(client_key);
  server_key_ = hmac(salted_sv, "Server Key");
  std::string without_proof = "c=biws,r=" + std::string(r);  // biws = base64("n,,")
  auth_message_ = client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  std::string sig = hmac(stored_key, auth_message_);
  std::string proof(client_key.size(), '\0');
  for (size_t k = 0; k < proof.size(); ++k) proof[k] = static_cast<char>(client_key[k] ^ sig[k]);
  return without_proof + ",p=" + base64_encode(proof);
}

bool ScramClient::verify_server_final(std::string_view server_final) {
  std::string_view e, v;
  if (attr(server_final, 'e', e)) {
    error_ = "SCRAM: server error: " + std::string(e);
    return false;
  }
  if (!attr(server_final, 'v', v) || server_key_.empty()) {
    error_ = "SCRAM: malformed server-final-message";
    return false;
  }
  std::string expected = base64_encode(hmac(server_key_, auth_message_));
  if (expected != v) {
    error_ = "SCRAM: server signature mismatch";
    return false;
  }
  return true;
}

}  // namespace fa::pg
