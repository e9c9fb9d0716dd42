// ALPN selection (RFC 7301 §3.1-3.2): server preference, malformed lists, wire format.
#include "tls/alpn.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using fa::tls::alpn_wire;
using fa::tls::select_alpn;

std::optional<std::string> pick(const std::string& wire, const std::vector<std::string>& ours) {
  auto r = select_alpn(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(wire.data()), wire.size()), ours);
  if (!r) return std::nullopt;
  return std::string(*r);
}

TEST(Alpn, ServerPreferenceWins) {
  std::string client = alpn_wire({"http/1.1", "h2"});
  EXPECT_EQ(pick(client, {"h2", "http/1.1"}), "h2");
  EXPECT_EQ(pick(client, {"http/1.1"}), "http/1.1");
}

TEST(Alpn, NoOverlapIsNullopt) {
  EXPECT_EQ(pick(alpn_wire({"h2"}), {"http/1.1"}), std::nullopt);
  EXPECT_EQ(pick("", {"http/1.1"}), std::nullopt);
}

TEST(Alpn, MalformedListsAreRefused) {
  EXPECT_EQ(pick(std::string("\x08http/1.", 8), {"http/1.1"}), std::nullopt);  // runs past end
  EXPECT_EQ(pick(std::string("\x00\x02h2", 4), {"h2"}), std::nullopt);         // empty name
  // a valid name before a broken one does not rescue the list
  EXPECT_EQ(pick(std::string("\x02h2\x05h", 5), {"h2"}), std::nullopt);
}

TEST(Alpn, NamesArePrefixMatchedNever) {
  EXPECT_EQ(pick(alpn_wire({"h2c", "http/1.10"}), {"h2", "http/1.1"}), std::nullopt);
}

TEST(Alpn, WireFormat) {
  EXPECT_EQ(alpn_wire({"h2", "http/1.1"}), std::string("\x02h2\x08http/1.1"));
  EXPECT_EQ(alpn_wire({"", std::string(256, 'x')}), "");  // names are 1..255 bytes
}

}  // namespace
