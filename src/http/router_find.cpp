// Router lookup: a depth-first walk of the segment trie with backtracking. Allocation-free: all
// state lives on the stack and in the caller's RouteMatch (router.h).
#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>

#include "http/router.h"
#include "http/router_node.h"

namespace fa::http {
namespace {

struct Search {
  int slot;                // method slot, or kNoSlot for an extension method
  std::string_view token;  // method token, for extension methods
  RouteMatch& out;         // params[0, depth) hold the values bound so far
  const char* begin;       // the path's first byte
  size_t depth = 0;
  const Leaf* partial = nullptr;  // first leaf whose path matched but whose methods did not
};

// Equality of n bytes, inlined: these runs are short (a few bytes to a few dozen) and a libc call
// costs more than the compare. Loads overlap instead of looping over the last bytes.
template <typename Word>
inline bool word_equal(const char* a, const char* b) {
  Word x, y;
  std::memcpy(&x, a, sizeof x);
  std::memcpy(&y, b, sizeof y);
  return x == y;
}

inline bool bytes_equal(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (!word_equal<uint64_t>(a + i, b + i)) return false;
    }
    return word_equal<uint64_t>(a + n - 8, b + n - 8);
  }
  if (n >= 4) return word_equal<uint32_t>(a, b) && word_equal<uint32_t>(a + n - 4, b + n - 4);
  if (n >= 2) return word_equal<uint16_t>(a, b) && word_equal<uint16_t>(a + n - 2, b + n - 2);
  return n == 0 || *a == *b;
}

// Little-endian word of the 8 bytes [p, p + 8) when they lie inside the path, else of the
// bytes [p, end) shifted down from the path's last 8 bytes (high bytes zero). Needs a path of
// at least 8 bytes for the second case; `ok` says whether a word could be formed.
inline uint64_t load_word(const char* p, const char* end, const char* begin, bool& ok) {
  uint64_t w = 0;
  ok = true;
  if (p == end) return 0;
  if (end - p >= 8) {
    std::memcpy(&w, p, sizeof w);
  } else if (end - begin >= 8) {
    std::memcpy(&w, end - 8, sizeof w);
    w >>= 8 * (8 - (end - p));
  } else {
    ok = false;
  }
  return w;
}

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;
constexpr uint64_t kSlashes = kOnes * '/';

// Flags (high bit of each byte) the bytes of w that are '/' (SWAR: a byte of w ^ "////////" is
// zero exactly there; the lowest flag is exact, higher ones may be borrows). Zero bytes that
// load_word() shifts in read as 0x2f, never as '/'.
inline uint64_t slash_bits(uint64_t w) {
  const uint64_t x = w ^ kSlashes;
  return (x - kOnes) & ~x & kHighs;
}

// One path segment as the walk needs it: where it ends and its segment_head().
struct Segment {
  const char* end;
  uint64_t head;
};

// Scans the segment starting at seg (up to the next '/' or end). One word load usually yields
// both the end and the head; a short path (< 8 bytes) falls back to byte loops.
inline Segment scan_segment(const char* seg, const char* end, const char* begin) {
  if constexpr (std::endian::native == std::endian::little) {
    bool ok;
    uint64_t w = load_word(seg, end, begin, ok);
    if (ok) {
      uint64_t hit = slash_bits(w);
      if (hit != 0) {
        const size_t len = static_cast<size_t>(std::countr_zero(hit)) >> 3;
        return {seg + len, len == 0 ? 0 : w & (~uint64_t{0} >> (64 - 8 * len))};
      }
      if (end - seg <= 8) return {end, w};  // bytes past `end` are already zero
      const uint64_t head = w;
      for (const char* p = seg + 8;; p += 8) {
        w = load_word(p, end, begin, ok);
        hit = slash_bits(w);
        if (hit != 0) return {p + (std::countr_zero(hit) >> 3), head};
        if (end - p <= 8) return {end, head};
      }
    }
  }
  const char* p = seg;
  while (p != end && *p != '/') ++p;
  return {p, segment_head(seg, static_cast<size_t>(p - seg))};
}

inline bool edge_matches(const StaticEdge& e, const char* seg, size_t len, uint64_t head) {
  return e.len == len && e.head == head && (len <= 8 || bytes_equal(seg + 8, e.text + 8, len - 8));
}

// The static child of `node` whose segment is [seg, seg + len), or nullptr.
inline const Router::Node* find_edge(const Router::Node* node, const char* seg, size_t len,
                                     uint64_t head) {
  if (node->edges.empty()) return nullptr;
  if (node->table.empty()) {
    for (const StaticEdge& e : node->edges) {
      if (edge_matches(e, seg, len, head)) return e.child;
    }
    return nullptr;
  }
  const size_t mask = node->table.size() - 1;
  size_t slot = segment_hash(head, len) >> node->table_shift;
  for (uint16_t idx; (idx = node->table[slot]) != 0; slot = (slot + 1) & mask) {
    const StaticEdge& e = node->edges[idx - 1];
    if (edge_matches(e, seg, len, head)) return e.child;
  }
  return nullptr;
}

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
  if (leaf == nullptr) return false;
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
  out.allow = leaf->allow_view;
  out.pattern = e->pattern_view;
  out.num_params = e->num_names;
  for (size_t i = 0; i < e->num_names; ++i) out.params[i].name = e->names[i];
  return true;
}

// Binds the next parameter's value (its name is filled in by accept()).
inline void bind(Search& s, const char* from, size_t len) {
  assert(s.depth < kMaxRouteParams && "Router::find: more bound parameters than a route can have");
  s.out.params[s.depth++].value = std::string_view(from, len);
}

// The walk from `node`; `c` is the cursor: the '/' that precedes the next segment, or `end` when
// every segment is consumed. Order at each segment: the static child, then {int}, {str}, {path};
// a failure deeper down backtracks to the next alternative. The last alternative at a node is
// taken by looping instead of recursing, so a table without overlapping shapes never recurses.
// On failure, s.depth is as it was on entry.
bool visit(const Router::Node* node, const char* c, const char* end, Search& s) {
  const size_t depth0 = s.depth;
  for (;;) {
    if (c == end) {
      if (accept(node->leaf.get(), s)) return true;
      break;
    }
    const char* seg = c + 1;
    const Segment scanned = scan_segment(seg, end, s.begin);
    const char* seg_end = scanned.end;
    const size_t len = static_cast<size_t>(seg_end - seg);
    const Router::Node* child = find_edge(node, seg, len, scanned.head);
    const Router::Node* int_child = len != 0 && node->int_child && is_int_segment(seg, seg_end)
                                        ? node->int_child.get()
                                        : nullptr;
    const Router::Node* str_child = len != 0 ? node->str_child.get() : nullptr;
    const Router::Node* path_child = node->path_child.get();
    if (child != nullptr) {
      if (!int_child && !str_child && !path_child) {
        node = child;
        c = seg_end;
        continue;
      }
      if (visit(child, seg_end, end, s)) return true;
    }
    if (int_child != nullptr) {
      bind(s, seg, len);
      if (!str_child && !path_child) {
        node = int_child;
        c = seg_end;
        continue;
      }
      if (visit(int_child, seg_end, end, s)) return true;
      --s.depth;
    }
    if (str_child != nullptr) {
      bind(s, seg, len);
      if (!path_child) {
        node = str_child;
        c = seg_end;
        continue;
      }
      if (visit(str_child, seg_end, end, s)) return true;
      --s.depth;
    }
    if (path_child != nullptr) {  // the rest of the path, '/' included; may be empty
      bind(s, seg, static_cast<size_t>(end - seg));
      if (accept(path_child->leaf.get(), s)) return true;
    }
    break;
  }
  s.depth = depth0;
  return false;
}

}  // namespace

void Router::find(Method method, std::string_view method_token, std::string_view path,
                  RouteMatch& out) const {
  if (root_ && !path.empty() && path.front() == '/') {
    const int slot =
        method == Method::kOther ? method_slot(method_token) : static_cast<int>(method);
    Search s{slot, method_token, out, path.data()};
    if (visit(root_.get(), path.data(), path.data() + path.size(), s)) return;  // out is filled
    if (s.partial != nullptr) {
      out.status = RouteStatus::kMethodNotAllowed;
      out.handler = 0;
      out.head_via_get = false;
      out.allow = s.partial->allow_view;
      out.pattern = s.partial->entries.front()->pattern_view;
      out.num_params = 0;
      return;
    }
  }
  out.status = RouteStatus::kNotFound;
  out.handler = 0;
  out.head_via_get = false;
  out.allow = {};
  out.pattern = {};
  out.num_params = 0;
}

}  // namespace fa::http
