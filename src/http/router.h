// Router: a radix tree over path segments (a trie whose edges are whole segments; static edges
// are found by hashing the segment's first word) with per-method handler ids. No I/O, no
// allocation on lookup. Internals: router_node.h; walk: router_find.cpp.
//
// Patterns: static segments, `{name}` (one segment), `{name:int}` (one segment of an optional
// '-' and digits), `{name:path}` (the rest of the path, may contain '/', only last).
// Precedence at each segment: static > {name:int} > {name} > {name:path}.
//
// Matching rules (the same as starlette's Router without redirect_slashes):
// - Matching is on the raw path as sent (not percent-decoded); parameter values are raw too.
// - "/a" and "/a/" are distinct routes; nothing is redirected.
// - `{name}` and `{name:int}` match a non-empty segment; `{name:path}` may match an empty rest:
//   "/files/{p:path}" matches "/files/" (p = "") but not "/files".
// - A parameter is a whole segment ("/v{n}" is rejected); `{name:str}` is `{name}`.
// - If a higher-precedence branch fails deeper, the search backtracks: with /users/me/profile
//   and /users/{id}/posts, "/users/me/posts" matches the second.
// - A path that matches a route without the request's method does not end the search: a later
//   (lower-precedence) route with the method wins; else kMethodNotAllowed with the Allow of the
//   first (most specific) path match.
// - Methods are case-sensitive tokens (RFC 9110 §9.1). An explicit method beats "*"; HEAD uses,
//   in order, a HEAD route, the GET route (head_via_get), a "*" route.
// - Param names belong to the route, not the tree: "/a/{x}/b" and "/a/{y}/c" coexist.
//
// Cost: segment boundaries are fixed by the path, so a lookup visits each tree node at most once
// (backtracking is bounded by the table's size, never exponential); a table whose shapes do not
// overlap is walked without recursion. find() is const and keeps no state: concurrent lookups
// are safe; add() must not run concurrently with anything.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "http/h1_parser.h"

namespace fa::http {

inline constexpr size_t kMaxRouteParams = 16;

struct RouteParam {
  std::string_view name;   // points into the router's storage (lives as long as the router)
  std::string_view value;  // points into the looked-up path (raw, not percent-decoded)
};

enum class RouteStatus : uint8_t { kFound, kNotFound, kMethodNotAllowed };

struct RouteMatch {
  RouteStatus status = RouteStatus::kNotFound;
  uint32_t handler = 0;       // id given to add()
  bool head_via_get = false;  // HEAD answered by the GET handler: send no body
  std::string_view allow;     // for kMethodNotAllowed (and kFound): e.g. "GET, HEAD, POST"
  std::string_view pattern;   // the matched route's pattern as registered
  RouteParam params[kMaxRouteParams];
  size_t num_params = 0;
};

// Thrown by add() for a malformed pattern or a route that conflicts with an existing one
// (same method + same shape, e.g. "/a/{x}" vs "/a/{y}", or a tail that is not last).
class RouteError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Registers `handler` for `method` (a token such as "GET"; "*" = any method) on `pattern`.
  // Throws RouteError on a malformed pattern or a conflict.
  void add(std::string_view method, std::string_view pattern, uint32_t handler);

  // Looks up `path` (no query string). Fills `out`; never allocates.
  // HEAD falls back to the GET handler (head_via_get = true) when no HEAD route exists.
  void find(Method method, std::string_view method_token, std::string_view path,
            RouteMatch& out) const;

  size_t size() const;  // number of (method, pattern) routes

  struct Node;  // opaque radix-tree node, defined in router_node.h (public so helpers can name it)

 private:
  std::unique_ptr<Node> root_;
  size_t size_ = 0;
};

}  // namespace fa::http
