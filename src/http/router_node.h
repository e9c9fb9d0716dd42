// Router internals: the segment-trie node with its hashed static edges, the per-shape leaf with
// its per-method routes, and the method slot mapping. Private to router*.cpp.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.h"

namespace fa::http {

// One registered (method, pattern) pair. The fields a lookup reads come first (one cache line
// for routes of up to two parameters).
struct RouteEntry {
  uint32_t handler = 0;
  uint32_t num_names = 0;
  std::string_view pattern_view;                          // = pattern
  std::array<std::string_view, kMaxRouteParams> names{};  // point into `pattern`
  std::string method;                                     // token as given to add(); "*" = any
  std::string pattern;                                    // as given to add()
};

// Slots for the methods Method names (kGet .. kPatch); kOther tokens go to Leaf::custom.
inline constexpr size_t kKnownMethodSlots = static_cast<size_t>(Method::kOther);
inline constexpr int kNoSlot = -1;

// The slot of a method token (case-sensitive, RFC 9110 §9.1), or kNoSlot for other tokens.
int method_slot(std::string_view token);

// All routes sharing one path shape, e.g. "/a/{int}/b".
struct Leaf {
  // Read by lookups (first cache line and a half):
  std::array<const RouteEntry*, kKnownMethodSlots> known{};
  const RouteEntry* any = nullptr;  // registered with "*"
  std::string_view allow_view;      // = allow
  // Registration-time storage:
  std::vector<const RouteEntry*> custom;  // extension methods, matched by token
  std::string allow;                      // "DELETE, GET, HEAD": sorted, HEAD added with GET
  std::vector<std::unique_ptr<RouteEntry>> entries;  // owns the routes; never empty
};

// The first min(len, 8) bytes of a segment as a little-endian word, zero-padded: a cheap key
// that decides most static-edge comparisons without touching the rest of the bytes.
inline uint64_t segment_head(const char* seg, size_t len) {
  uint64_t w = 0;
  const size_t n = len < 8 ? len : 8;
  for (size_t i = 0; i < n; ++i) w |= uint64_t{static_cast<unsigned char>(seg[i])} << (8 * i);
  return w;
}

// Hash of a static segment for a node's open-addressing edge table (Fibonacci hashing).
inline uint64_t segment_hash(uint64_t head, size_t len) {
  return (head ^ (uint64_t{len} << 56) ^ len) * 0x9E3779B97F4A7C15ULL;
}

struct StaticEdge {
  uint64_t head = 0;           // segment_head() of the segment
  size_t len = 0;              // segment length in bytes
  const char* text = nullptr;  // the segment's bytes (owned by child->segment)
  const Router::Node* child = nullptr;
};

// A trie node: the position after some number of path segments. Static children are keyed by
// their whole segment; dynamic children match any segment of their type.
struct Router::Node {
  // Read by lookups, in the first cache line:
  std::unique_ptr<Node> int_child;   // {name:int}
  std::unique_ptr<Node> str_child;   // {name}
  std::unique_ptr<Node> path_child;  // {name:path}: always a leaf
  std::unique_ptr<Leaf> leaf;
  std::vector<StaticEdge> edges;
  int table_shift = 0;          // 64 - log2(table.size())
  std::vector<uint16_t> table;  // edge index + 1 per slot (0 = empty); empty when few edges
  // Registration-time storage:
  std::string segment;  // the static segment that leads here ("" for dynamic nodes)
  std::vector<std::unique_ptr<Node>> statics;  // owns edges[i].child
};

// Up to this many static edges are scanned linearly; past it, the hash table is used.
inline constexpr size_t kLinearEdges = 4;

}  // namespace fa::http
