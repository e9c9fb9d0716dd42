// libFuzzer target: ALPN selection (src/tls/alpn.h) on an arbitrary client ProtocolNameList.
// Invariants: never crashes; a chosen name is one of ours and lies inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "tls/alpn.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> ours{"h2", "http/1.1"};
  auto chosen = fa::tls::select_alpn(std::span<const uint8_t>(data, size), ours);
  if (!chosen) return 0;
  if (*chosen != "h2" && *chosen != "http/1.1") std::abort();
  auto* p = reinterpret_cast<const uint8_t*>(chosen->data());
  if (p < data || p + chosen->size() > data + size) std::abort();
  return 0;
}
