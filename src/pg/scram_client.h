// ScramClient: the client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it (§55.3.1).
#pragma once

#include <string>
#include <string_view>

namespace fa::pg {

// Drives one SCRAM-SHA-256 exchange without channel binding (gs2 header "n,,").
// PostgreSQL ignores the SCRAM user name (it takes the startup user), so it may be empty.
// Note: the password is used as given (no SASLprep normalisation); ASCII passwords are unaffected.
class ScramClient {
 public:
  // client_nonce empty = 18 random bytes from OpenSSL, base64-encoded.
  ScramClient(std::string user, std::string password, std::string client_nonce = {});

  // Returns the client-first-message.
  const std::string& client_first() const { return client_first_; }
  // Consumes server-first-message; returns client-final-message, or "" on error (see error()).
  std::string client_final(std::string_view server_first);
  // Checks server-final-message's signature; returns false on mismatch or server error.
  bool verify_server_final(std::string_view server_final);
  const std::string& error() const { return error_; }

 private:
  std::string password_;
  std::string nonce_;
  std::string client_first_bare_;
  std::string client_first_;
  std::string auth_message_;
  std::string server_key_;
  std::string error_;
};

std::string base64_encode(std::string_view in);
// Decodes standard base64; returns false on bad input.
bool base64_decode(std::string_view in, std::string& out);

}  // namespace fa::pg
