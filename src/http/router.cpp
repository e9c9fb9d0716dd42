// Router registration: builds the segment trie, detects conflicts, precomputes Allow (router.h).
#include "http/router.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <utility>

#include "http/router_node.h"
#include "http/router_pattern.h"

namespace fa::http {
namespace {

constexpr std::array<std::string_view, kKnownMethodSlots> kSlotNames = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
// kSlotNames[i] names Method(i): checked here so a reordered enum fails to compile.
static_assert(static_cast<int>(Method::kGet) == 0 && static_cast<int>(Method::kHead) == 1 &&
                  static_cast<int>(Method::kPost) == 2 && static_cast<int>(Method::kPut) == 3 &&
                  static_cast<int>(Method::kDelete) == 4 &&
                  static_cast<int>(Method::kConnect) == 5 &&
                  static_cast<int>(Method::kOptions) == 6 &&
                  static_cast<int>(Method::kTrace) == 7 && static_cast<int>(Method::kPatch) == 8 &&
                  static_cast<int>(Method::kOther) == 9,
              "router_node.h method slots follow the order of fa::http::Method");

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

using NodePtr = std::unique_ptr<Router::Node>;

constexpr size_t kMaxEdges = 0xfffe;  // per node; table entries are uint16_t index + 1

// Rebuilds `node`'s open-addressing table (load factor <= 1/2) when it has many edges.
void rebuild_table(Router::Node* node) {
  node->table.clear();
  node->table_shift = 0;
  if (node->edges.size() <= kLinearEdges) return;
  size_t size = 8;
  while (size < node->edges.size() * 2) size *= 2;
  node->table.assign(size, 0);
  node->table_shift = 64 - std::countr_zero(size);
  for (size_t i = 0; i < node->edges.size(); ++i) {
    const StaticEdge& e = node->edges[i];
    size_t slot = segment_hash(e.head, e.len) >> node->table_shift;
    while (node->table[slot] != 0) slot = (slot + 1) & (size - 1);
    node->table[slot] = static_cast<uint16_t>(i + 1);
  }
}

// The static child of `node` for `segment`, created if missing.
Router::Node* static_child(Router::Node* node, std::string_view segment) {
  for (const NodePtr& child : node->statics) {
    if (child->segment == segment) return child.get();
  }
  if (node->statics.size() >= kMaxEdges)
    throw RouteError("too many static routes under one segment");
  auto child = std::make_unique<Router::Node>();
  child->segment.assign(segment);
  Router::Node* raw = child.get();
  node->statics.push_back(std::move(child));
  node->edges.push_back({segment_head(raw->segment.data(), raw->segment.size()),
                         raw->segment.size(), raw->segment.data(), raw});
  rebuild_table(node);
  return raw;
}

Router::Node* dynamic_child(Router::Node* node, PieceKind kind) {
  NodePtr& child = kind == PieceKind::kInt   ? node->int_child
                   : kind == PieceKind::kStr ? node->str_child
                                             : node->path_child;
  if (!child) child = std::make_unique<Router::Node>();
  return child.get();
}

const RouteEntry*& method_cell(Leaf& leaf, std::string_view method) {
  if (method == "*") return leaf.any;
  const int slot = method_slot(method);
  if (slot != kNoSlot) return leaf.known[static_cast<size_t>(slot)];
  for (const RouteEntry*& e : leaf.custom) {
    if (e->method == method) return e;
  }
  return leaf.custom.emplace_back(nullptr);
}

// Allow (RFC 9110 §10.2.1) for the leaf once `added` joins it: its explicit methods, sorted;
// HEAD listed when GET is.
std::string compute_allow(const Leaf& leaf, std::string_view added) {
  std::vector<std::string_view> methods;
  for (const auto& e : leaf.entries) methods.push_back(e->method);
  methods.push_back(added);
  if (std::find(methods.begin(), methods.end(), "GET") != methods.end()) methods.push_back("HEAD");
  methods.erase(std::remove(methods.begin(), methods.end(), "*"), methods.end());
  std::sort(methods.begin(), methods.end());
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  std::string allow;
  for (std::string_view m : methods) {
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  return allow;
}

}  // namespace

int method_slot(std::string_view token) {
  for (size_t i = 0; i < kSlotNames.size(); ++i) {
    if (kSlotNames[i] == token) return static_cast<int>(i);
  }
  return kNoSlot;
}

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&& other) noexcept
    : root_(std::move(other.root_)), size_(std::exchange(other.size_, 0)) {}
Router& Router::operator=(Router&& other) noexcept {
  root_ = std::move(other.root_);
  size_ = std::exchange(other.size_, 0);
  return *this;
}

size_t Router::size() const {
  return size_;
}

void Router::add(std::string_view method, std::string_view pattern, uint32_t handler) {
  if (method.empty() || (method != "*" && !std::all_of(method.begin(), method.end(), is_tchar))) {
    throw RouteError("invalid method '" + std::string(method) + "' for route '" +
                     std::string(pattern) + "': use a token such as GET, or \"*\" for any");
  }
  const std::vector<PatternPiece> pieces = parse_route_pattern(pattern);  // throws first

  auto entry = std::make_unique<RouteEntry>();
  entry->method.assign(method);
  entry->pattern.assign(pattern);
  entry->pattern_view = entry->pattern;
  entry->handler = handler;
  // Parameter names are views into entry->pattern, found again at the same places.
  size_t from = 0;
  for (const PatternPiece& piece : pieces) {
    if (piece.kind == PieceKind::kStatic) continue;
    const size_t open = entry->pattern.find('{', from);
    assert(open != std::string::npos && "Router::add: pattern lost a parameter");
    entry->names[entry->num_names++] =
        std::string_view(entry->pattern).substr(open + 1, piece.text.size());
    from = open + 1;
  }

  if (!root_) root_ = std::make_unique<Node>();  // a moved-from router is usable again
  Node* node = root_.get();
  for (const PatternPiece& piece : pieces) {
    node = piece.kind == PieceKind::kStatic ? static_child(node, piece.text)
                                            : dynamic_child(node, piece.kind);
  }
  // Everything that can throw happens before the leaf changes (strong guarantee).
  std::unique_ptr<Leaf> fresh;
  if (!node->leaf) fresh = std::make_unique<Leaf>();
  Leaf& leaf = fresh ? *fresh : *node->leaf;
  leaf.entries.reserve(leaf.entries.size() + 1);
  leaf.custom.reserve(leaf.custom.size() + 1);
  std::string allow = compute_allow(leaf, method);

  const RouteEntry*& cell = method_cell(leaf, method);
  if (cell != nullptr) {
    throw RouteError("route conflict: " + std::string(method) + " " + std::string(pattern) +
                     " has the same method and path shape as " + cell->method + " " +
                     cell->pattern + " (parameter names do not tell routes apart)");
  }
  cell = entry.get();
  leaf.entries.push_back(std::move(entry));
  leaf.allow.swap(allow);
  leaf.allow_view = leaf.allow;
  if (fresh) node->leaf = std::move(fresh);
  ++size_;
}

}  // namespace fa::http
