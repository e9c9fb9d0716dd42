// Router internals: the radix-tree node, the per-shape leaf with its per-method routes, and the
// method slot mapping. Private to router*.cpp.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.h"

namespace fa::http {

// One registered (method, pattern) pair.
struct RouteEntry {
  std::string method;   // token as given to add(); "*" = any
  std::string pattern;  // as given to add(); `names` point into it
  uint32_t handler = 0;
  std::array<std::string_view, kMaxRouteParams> names{};
  size_t num_names = 0;
};

// Slots for the methods Method names (kGet .. kPatch); kOther tokens go to Leaf::custom.
inline constexpr size_t kKnownMethodSlots = static_cast<size_t>(Method::kOther);
inline constexpr int kNoSlot = -1;

// The slot of a method token (case-sensitive, RFC 9110 §9.1), or kNoSlot for other tokens.
int method_slot(std::string_view token);

// All routes sharing one path shape, e.g. "/a/{int}/b".
struct Leaf {
  std::vector<std::unique_ptr<RouteEntry>> entries;  // owns the routes
  std::array<const RouteEntry*, kKnownMethodSlots> known{};
  std::vector<const RouteEntry*> custom;  // extension methods, matched by token
  const RouteEntry* any = nullptr;        // registered with "*"
  std::string allow;                      // "DELETE, GET, HEAD": sorted, HEAD added with GET
};

// A radix-tree node. A static node matches `prefix`; a dynamic node (int/str child) matches one
// non-empty segment and has an empty prefix. Dynamic children hang only off nodes whose path
// so far ends in '/', so a parameter always starts a segment.
struct Router::Node {
  std::string prefix;
  std::string first;  // first byte of each static child, same order as `statics`
  std::vector<std::unique_ptr<Node>> statics;
  std::unique_ptr<Node> int_child;   // {name:int}
  std::unique_ptr<Node> str_child;   // {name}
  std::unique_ptr<Node> path_child;  // {name:path}: always a leaf
  std::unique_ptr<Leaf> leaf;

  bool has_dynamic() const { return int_child || str_child || path_child; }
};

}  // namespace fa::http
