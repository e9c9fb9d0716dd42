// md5_password: PostgreSQL's MD5 password response (§55.3): "md5" + md5hex(md5hex(password + user) + salt).
#pragma once

#include <string>
#include <string_view>

namespace fa::pg {

// Returns the 35-character response for AuthenticationMD5Password with the 4-byte salt.
std::string md5_password(std::string_view user, std::string_view password, std::string_view salt);

}  // namespace fa::pg
