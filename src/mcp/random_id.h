// Unguessable identifiers for sessions and tasks.
#pragma once

#include <string>

namespace fa::mcp {

// 128 random bits from getrandom(2) as 32 lowercase hex digits: the transport spec asks for a
// globally unique, cryptographically secure session id, and SEP-2663 for task ids no other
// client can guess.
std::string random_hex_id();

}  // namespace fa::mcp
