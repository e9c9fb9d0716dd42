// permessage-deflate negotiation (RFC 7692 §7.1): pick the first acceptable offer in the
// client's Sec-WebSocket-Extensions and build the server's answer.
#pragma once

#include <string>
#include <string_view>

namespace fa::ws {

struct DeflateParams {
  bool server_no_context_takeover = false;  // we reset our compressor after each message
  bool client_no_context_takeover = false;  // the client resets its compressor
  int server_max_window_bits = 15;          // LZ77 window of what we send (8-15)
  int client_max_window_bits = 15;          // LZ77 window of what the client sends
};

// Reads a Sec-WebSocket-Extensions value (several headers joined with ", "). Returns true and
// fills `params` and `response` (the value for the 101's Sec-WebSocket-Extensions) for the first
// permessage-deflate offer whose parameters are all known, unique and in range (§7.1: an offer
// with anything else is declined); false when there is none.
bool negotiate_deflate(std::string_view offers, DeflateParams& params, std::string& response);

}  // namespace fa::ws
