// Router lookup: a depth-first walk of the radix tree with backtracking. Allocation-free: all
// state lives on the stack and in the caller's RouteMatch (router.h).
#include <cassert>
#include <cstring>

#include "http/router.h"
#include "http/router_node.h"

namespace fa::http {
namespace {

struct Search {
  int slot;                    // method slot, or kNoSlot for an extension method
  std::string_view token;      // method token, for extension methods
  RouteMatch& out;             // params[0, depth) hold the values bound so far
  size_t depth = 0;
  const Leaf* partial = nullptr;  // first leaf whose path matched but whose methods did not
};

// {name:int}: an optional '-' then one or more ASCII digits. Range is the handler's business.
bool is_int_segment(const char* p, const char* end) {
  if (*p == '-') ++p;
  if (p == end) return false;
  for (; p != end; ++p) {
    if (static_cast<unsigned char>(*p - '0') > 9) return false;
  }
  return true;
}

// The route `leaf` serves for the searched method, or nullptr. HEAD prefers its own route, then
// GET (sent without a body), then "*".
const RouteEntry* pick(const Leaf& leaf, const Search& s, bool& head_via_get) {
  if (s.slot != kNoSlot) {
    if (const RouteEntry* e = leaf.known[static_cast<size_t>(s.slot)]) return e;
    constexpr int kHead = static_cast<int>(Method::kHead);
    if (s.slot == kHead) {
      if (const RouteEntry* e = leaf.known[static_cast<size_t>(Method::kGet)]) {
        head_via_get = true;
        return e;
      }
    }
  } else {
    for (const RouteEntry* e : leaf.custom) {
      if (e->method == s.token) return e;
    }
  }
  return leaf.any;
}

// Completes the match at `leaf` if it serves the method; otherwise remembers it for 405.
bool accept(const Leaf* leaf, Search& s) {
  if (leaf == nullptr || leaf->entries.empty()) return false;
  bool head_via_get = false;
  const RouteEntry* e = pick(*leaf, s, head_via_get);
  if (e == nullptr) {
    if (s.partial == nullptr) s.partial = leaf;
    return false;
  }
  assert(e->num_names == s.depth && "Router::find: parameter count differs from the route's");
  RouteMatch& out = s.out;
  out.status = RouteStatus::kFound;
  out.handler = e->handler;
  out.head_via_get = head_via_get;
  out.allow = leaf->allow;
  out.pattern = e->pattern;
  out.num_params = e->num_names;
  for (size_t i = 0; i < e->num_names; ++i) out.params[i].name = e->names[i];
  return true;
}

// Binds the next parameter, tries `child`, unbinds on failure.
bool visit(const Router::Node* node, const char* p, const char* end, Search& s);

bool try_param(const Router::Node* child, const char* p, const char* seg_end, const char* end,
               Search& s) {
  s.out.params[s.depth++].value = std::string_view(p, static_cast<size_t>(seg_end - p));
  if (visit(child, seg_end, end, s)) return true;
  --s.depth;
  return false;
}

// Matches the rest of the path [p, end) below `node` (whose own prefix is already consumed).
// Order at each node: static children, then {int}, {str}, {path}; a failing branch backtracks.
bool visit(const Router::Node* node, const char* p, const char* end, Search& s) {
  for (;;) {
    if (p == end) {
      if (accept(node->leaf.get(), s)) return true;
      break;
    }
    const void* hit = node->first.empty()
                          ? nullptr
                          : std::memchr(node->first.data(), *p, node->first.size());
    if (hit == nullptr) break;
    const Router::Node* child =
        node->statics[static_cast<const char*>(hit) - node->first.data()].get();
    const size_t len = child->prefix.size();
    if (static_cast<size_t>(end - p) < len || std::memcmp(p, child->prefix.data(), len) != 0) break;
    if (!node->has_dynamic()) {  // nothing to fall back to here: descend without recursion
      node = child;
      p += len;
      continue;
    }
    if (visit(child, p + len, end, s)) return true;
    break;
  }
  if (p != end && (node->int_child || node->str_child)) {
    const void* slash = std::memchr(p, '/', static_cast<size_t>(end - p));
    const char* seg_end = slash ? static_cast<const char*>(slash) : end;
    if (seg_end != p) {
      if (node->int_child && is_int_segment(p, seg_end) &&
          try_param(node->int_child.get(), p, seg_end, end, s)) {
        return true;
      }
      if (node->str_child && try_param(node->str_child.get(), p, seg_end, end, s)) return true;
    }
  }
  if (node->path_child) {  // the rest of the path, '/' included; may be empty
    s.out.params[s.depth++].value = std::string_view(p, static_cast<size_t>(end - p));
    if (accept(node->path_child->leaf.get(), s)) return true;
    --s.depth;
  }
  return false;
}

}  // namespace

void Router::find(Method method, std::string_view method_token, std::string_view path,
                  RouteMatch& out) const {
  out.status = RouteStatus::kNotFound;
  out.handler = 0;
  out.head_via_get = false;
  out.allow = {};
  out.pattern = {};
  out.num_params = 0;
  if (!root_ || path.empty()) return;

  int slot = method == Method::kOther ? method_slot(method_token) : static_cast<int>(method);
  Search s{slot, method_token, out};
  if (visit(root_.get(), path.data(), path.data() + path.size(), s)) return;
  if (s.partial != nullptr) {
    out.status = RouteStatus::kMethodNotAllowed;
    out.allow = s.partial->allow;
    out.pattern = s.partial->entries.front()->pattern;
  }
}

}  // namespace fa::http
