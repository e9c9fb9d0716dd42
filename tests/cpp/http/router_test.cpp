// Tests for the router (src/http/router.h): precedence, backtracking, typing, conflicts,
// 404/405 with Allow, HEAD fallback, parameter extraction, and allocation-free lookups.
#include "http/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../../../benchmarks/micro/data/github_api_routes.h"

// Counts heap allocations so a test can assert that find() makes none. (GCC cannot see that
// these replacements pair malloc with free, hence the pragma.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
size_t g_allocations = 0;
}  // namespace

void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}

namespace fa::http {
namespace {

// The Method id of a token, as the HTTP/1.1 parser would report it.
Method method_id(std::string_view token) {
  constexpr std::string_view kNames[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                         "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (kNames[i] == token) return static_cast<Method>(i);
  }
  return Method::kOther;
}

RouteMatch lookup(const Router& r, std::string_view method, std::string_view path) {
  RouteMatch m;
  r.find(method_id(method), method, path, m);
  return m;
}

std::string_view param(const RouteMatch& m, std::string_view name) {
  for (size_t i = 0; i < m.num_params; ++i) {
    if (m.params[i].name == name) return m.params[i].value;
  }
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

// The handler id found for GET `path`, or -1 for 404, -2 for 405.
int64_t get_id(const Router& r, std::string_view path) {
  const RouteMatch m = lookup(r, "GET", path);
  if (m.status == RouteStatus::kNotFound) return -1;
  if (m.status == RouteStatus::kMethodNotAllowed) return -2;
  return m.handler;
}

TEST(Router, StaticRoutes) {
  Router r;
  r.add("GET", "/", 1);
  r.add("GET", "/users", 2);
  r.add("GET", "/users/list", 3);
  r.add("GET", "/user", 4);
  EXPECT_EQ(r.size(), 4u);
  EXPECT_EQ(get_id(r, "/"), 1);
  EXPECT_EQ(get_id(r, "/users"), 2);
  EXPECT_EQ(get_id(r, "/users/list"), 3);
  EXPECT_EQ(get_id(r, "/user"), 4);
  EXPECT_EQ(get_id(r, "/use"), -1);
  EXPECT_EQ(get_id(r, "/usersx"), -1);
  EXPECT_EQ(get_id(r, "/users/lis"), -1);
  EXPECT_EQ(get_id(r, ""), -1);
  EXPECT_EQ(get_id(r, "*"), -1);
  const RouteMatch m = lookup(r, "GET", "/users/list");
  EXPECT_EQ(m.pattern, "/users/list");
  EXPECT_EQ(m.num_params, 0u);
}

TEST(Router, TrailingSlashIsADistinctRoute) {
  Router r;
  r.add("GET", "/a", 1);
  r.add("GET", "/b/", 2);
  EXPECT_EQ(get_id(r, "/a"), 1);
  EXPECT_EQ(get_id(r, "/a/"), -1);
  EXPECT_EQ(get_id(r, "/b/"), 2);
  EXPECT_EQ(get_id(r, "/b"), -1);
  r.add("GET", "/a/", 3);
  EXPECT_EQ(get_id(r, "/a/"), 3);
  EXPECT_EQ(get_id(r, "/a"), 1);
}

TEST(Router, ParamsAreViewsIntoThePath) {
  Router r;
  r.add("GET", "/repos/{owner}/{repo}/issues/{number}", 7);
  const std::string path = "/repos/julien/router/issues/42";
  const RouteMatch m = lookup(r, "GET", path);
  ASSERT_EQ(m.status, RouteStatus::kFound);
  EXPECT_EQ(m.handler, 7u);
  ASSERT_EQ(m.num_params, 3u);
  EXPECT_EQ(m.params[0].name, "owner");
  EXPECT_EQ(m.params[0].value, "julien");
  EXPECT_EQ(m.params[1].name, "repo");
  EXPECT_EQ(m.params[1].value, "router");
  EXPECT_EQ(m.params[2].name, "number");
  EXPECT_EQ(m.params[2].value, "42");
  for (size_t i = 0; i < m.num_params; ++i) {
    EXPECT_GE(m.params[i].value.data(), path.data());
    EXPECT_LE(m.params[i].value.data() + m.params[i].value.size(), path.data() + path.size());
  }
  EXPECT_EQ(m.params[0].value.data(), path.data() + 7);
}

TEST(Router, StrParamNeedsANonEmptySegment) {
  Router r;
  r.add("GET", "/users/{id}", 1);
  r.add("GET", "/users/{id}/posts", 2);
  EXPECT_EQ(get_id(r, "/users/x"), 1);
  EXPECT_EQ(get_id(r, "/users/"), -1);
  EXPECT_EQ(get_id(r, "/users//posts"), -1);
  EXPECT_EQ(get_id(r, "/users/x/posts"), 2);
  EXPECT_EQ(get_id(r, "/users/x/y"), -1);
  EXPECT_EQ(get_id(r, "/users/x/"), -1);
  EXPECT_EQ(param(lookup(r, "GET", "/users/a%2Fb"), "id"), "a%2Fb");  // raw, not decoded
}

TEST(Router, PrecedenceStaticIntStrPath) {
  Router r;
  r.add("GET", "/f/{rest:path}", 4);
  r.add("GET", "/f/{name}", 3);
  r.add("GET", "/f/{n:int}", 2);
  r.add("GET", "/f/new", 1);
  EXPECT_EQ(get_id(r, "/f/new"), 1);
  EXPECT_EQ(get_id(r, "/f/123"), 2);
  EXPECT_EQ(get_id(r, "/f/-5"), 2);
  EXPECT_EQ(get_id(r, "/f/newer"), 3);
  EXPECT_EQ(get_id(r, "/f/ne"), 3);
  EXPECT_EQ(get_id(r, "/f/12a"), 3);
  EXPECT_EQ(get_id(r, "/f/-"), 3);
  EXPECT_EQ(get_id(r, "/f/a/b"), 4);
  EXPECT_EQ(get_id(r, "/f/"), 4);  // {path} matches an empty rest, like starlette
  EXPECT_EQ(get_id(r, "/f"), -1);
  EXPECT_EQ(param(lookup(r, "GET", "/f/a/b/"), "rest"), "a/b/");
  EXPECT_EQ(param(lookup(r, "GET", "/f/"), "rest"), "");
  EXPECT_EQ(param(lookup(r, "GET", "/f/-5"), "n"), "-5");
}

TEST(Router, IntFallsThroughToStrElse404) {
  Router r;
  r.add("GET", "/items/{id:int}", 1);
  r.add("GET", "/orders/{id:int}", 2);
  r.add("GET", "/orders/{slug}", 3);
  EXPECT_EQ(get_id(r, "/items/10"), 1);
  EXPECT_EQ(get_id(r, "/items/ten"), -1);
  EXPECT_EQ(get_id(r, "/items/1.5"), -1);
  EXPECT_EQ(get_id(r, "/items/--1"), -1);
  EXPECT_EQ(get_id(r, "/items/+1"), -1);
  EXPECT_EQ(get_id(r, "/orders/10"), 2);
  EXPECT_EQ(get_id(r, "/orders/ten"), 3);
  EXPECT_EQ(param(lookup(r, "GET", "/orders/ten"), "slug"), "ten");
}

TEST(Router, BacktracksFromStaticToParam) {
  Router r;
  r.add("GET", "/users/me/profile", 1);
  r.add("GET", "/users/{id}/posts", 2);
  EXPECT_EQ(get_id(r, "/users/me/profile"), 1);
  EXPECT_EQ(get_id(r, "/users/me/posts"), 2);
  EXPECT_EQ(param(lookup(r, "GET", "/users/me/posts"), "id"), "me");
  EXPECT_EQ(get_id(r, "/users/42/posts"), 2);
  EXPECT_EQ(get_id(r, "/users/me"), -1);
  EXPECT_EQ(get_id(r, "/users/42/profile"), -1);
}

TEST(Router, BacktracksAcrossSeveralLevels) {
  Router r;
  r.add("GET", "/a/b/c/d", 1);
  r.add("GET", "/a/{x:int}/c/e", 2);
  r.add("GET", "/a/{x}/{y}/f", 3);
  r.add("GET", "/a/{x:path}", 4);
  EXPECT_EQ(get_id(r, "/a/b/c/d"), 1);
  EXPECT_EQ(get_id(r, "/a/1/c/e"), 2);
  EXPECT_EQ(get_id(r, "/a/b/c/f"), 3);
  EXPECT_EQ(get_id(r, "/a/1/c/f"), 3);
  EXPECT_EQ(get_id(r, "/a/b/c/g"), 4);
  const RouteMatch m = lookup(r, "GET", "/a/1/c/f");
  ASSERT_EQ(m.num_params, 2u);  // the failed {x:int} binding left nothing behind
  EXPECT_EQ(param(m, "x"), "1");
  EXPECT_EQ(param(m, "y"), "c");
  EXPECT_EQ(param(lookup(r, "GET", "/a/b/c/g"), "x"), "b/c/g");
}

TEST(Router, StaticPrefixSplitInsideASegment) {
  Router r;
  r.add("GET", "/search/code", 1);
  r.add("GET", "/search/commits", 2);
  r.add("GET", "/search/{kind}", 3);
  r.add("GET", "/se", 4);
  EXPECT_EQ(get_id(r, "/search/code"), 1);
  EXPECT_EQ(get_id(r, "/search/commits"), 2);
  EXPECT_EQ(get_id(r, "/search/com"), 3);
  EXPECT_EQ(get_id(r, "/search/codes"), 3);
  EXPECT_EQ(get_id(r, "/se"), 4);
  EXPECT_EQ(get_id(r, "/sea"), -1);
}

TEST(Router, ParamNamesArePerRoute) {
  Router r;
  r.add("GET", "/a/{x}/b", 1);
  r.add("GET", "/a/{y}/c", 2);
  r.add("POST", "/a/{z}/b", 3);
  EXPECT_EQ(param(lookup(r, "GET", "/a/1/b"), "x"), "1");
  EXPECT_EQ(param(lookup(r, "GET", "/a/2/c"), "y"), "2");
  const RouteMatch m = lookup(r, "POST", "/a/3/b");
  EXPECT_EQ(m.handler, 3u);
  EXPECT_EQ(param(m, "z"), "3");
  EXPECT_EQ(m.pattern, "/a/{z}/b");
}

TEST(Router, RootAndRootTail) {
  Router r;
  r.add("GET", "/", 1);
  r.add("GET", "/{name}", 2);
  r.add("GET", "/{rest:path}", 3);
  EXPECT_EQ(get_id(r, "/"), 1);
  EXPECT_EQ(get_id(r, "/x"), 2);
  EXPECT_EQ(get_id(r, "/x/"), 3);
  EXPECT_EQ(get_id(r, "/x/y"), 3);
  EXPECT_EQ(get_id(r, "//"), 3);
  EXPECT_EQ(get_id(r, "x"), -1);
  Router only_tail;
  only_tail.add("GET", "/{rest:path}", 9);
  EXPECT_EQ(get_id(only_tail, "/"), 9);
  EXPECT_EQ(param(lookup(only_tail, "GET", "/"), "rest"), "");
}

TEST(Router, ManyParams) {
  Router r;
  std::string pattern, path;
  for (size_t i = 0; i < kMaxRouteParams; ++i) {
    pattern += "/{p" + std::to_string(i) + "}";
    path += "/v" + std::to_string(i);
  }
  r.add("GET", pattern, 5);
  const RouteMatch m = lookup(r, "GET", path);
  ASSERT_EQ(m.status, RouteStatus::kFound);
  ASSERT_EQ(m.num_params, kMaxRouteParams);
  for (size_t i = 0; i < kMaxRouteParams; ++i) {
    EXPECT_EQ(m.params[i].name, "p" + std::to_string(i));
    EXPECT_EQ(m.params[i].value, "v" + std::to_string(i));
  }
  EXPECT_THROW(r.add("GET", pattern + "/{one_too_many}", 6), RouteError);
}

TEST(Router, MethodNotAllowedListsAllowSorted) {
  Router r;
  r.add("POST", "/things", 1);
  r.add("GET", "/things", 2);
  r.add("DELETE", "/things", 3);
  r.add("PUT", "/only-put", 4);
  RouteMatch m = lookup(r, "PATCH", "/things");
  EXPECT_EQ(m.status, RouteStatus::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "DELETE, GET, HEAD, POST");
  EXPECT_EQ(m.num_params, 0u);
  m = lookup(r, "GET", "/only-put");
  EXPECT_EQ(m.status, RouteStatus::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "PUT");
  m = lookup(r, "GET", "/things");
  EXPECT_EQ(m.status, RouteStatus::kFound);
  EXPECT_EQ(m.allow, "DELETE, GET, HEAD, POST");
  EXPECT_EQ(lookup(r, "GET", "/nothing").status, RouteStatus::kNotFound);
  EXPECT_EQ(lookup(r, "GET", "/nothing").allow, "");
}

TEST(Router, MethodMismatchKeepsSearchingLowerPrecedence) {
  Router r;
  r.add("GET", "/users/me", 1);
  r.add("POST", "/users/{id}", 2);
  RouteMatch m = lookup(r, "POST", "/users/me");
  EXPECT_EQ(m.status, RouteStatus::kFound);
  EXPECT_EQ(m.handler, 2u);
  m = lookup(r, "DELETE", "/users/me");
  EXPECT_EQ(m.status, RouteStatus::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD");  // the most specific path match decides Allow
  EXPECT_EQ(m.pattern, "/users/me");
}

TEST(Router, HeadFallsBackToGet) {
  Router r;
  r.add("GET", "/a", 1);
  r.add("GET", "/b", 2);
  r.add("HEAD", "/b", 3);
  r.add("POST", "/c", 4);
  RouteMatch m = lookup(r, "HEAD", "/a");
  EXPECT_EQ(m.status, RouteStatus::kFound);
  EXPECT_EQ(m.handler, 1u);
  EXPECT_TRUE(m.head_via_get);
  m = lookup(r, "HEAD", "/b");
  EXPECT_EQ(m.handler, 3u);
  EXPECT_FALSE(m.head_via_get);
  m = lookup(r, "GET", "/a");
  EXPECT_FALSE(m.head_via_get);
  m = lookup(r, "HEAD", "/c");
  EXPECT_EQ(m.status, RouteStatus::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "POST");
}

TEST(Router, AnyMethodRoute) {
  Router r;
  r.add("*", "/any", 1);
  r.add("GET", "/any", 2);
  EXPECT_EQ(lookup(r, "GET", "/any").handler, 2u);  // an explicit method beats "*"
  EXPECT_EQ(lookup(r, "POST", "/any").handler, 1u);
  EXPECT_EQ(lookup(r, "PURGE", "/any").handler, 1u);
  RouteMatch m = lookup(r, "HEAD", "/any");
  EXPECT_EQ(m.handler, 2u);
  EXPECT_TRUE(m.head_via_get);
  EXPECT_THROW(r.add("*", "/any", 3), RouteError);
}

TEST(Router, ExtensionMethods) {
  Router r;
  r.add("PURGE", "/cache", 1);
  r.add("GET", "/cache", 2);
  EXPECT_EQ(lookup(r, "PURGE", "/cache").handler, 1u);
  RouteMatch m = lookup(r, "PURGEX", "/cache");
  EXPECT_EQ(m.status, RouteStatus::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, PURGE");
  // A known token passed as kOther is still recognised.
  r.find(Method::kOther, "GET", "/cache", m);
  EXPECT_EQ(m.handler, 2u);
  EXPECT_THROW(r.add("PURGE", "/cache", 3), RouteError);
  EXPECT_THROW(r.add("GE T", "/x", 3), RouteError);
  EXPECT_THROW(r.add("", "/x", 3), RouteError);
}

TEST(Router, ConflictsAreRejected) {
  Router r;
  r.add("GET", "/a/{x}", 1);
  try {
    r.add("GET", "/a/{y}", 2);
    FAIL() << "expected a RouteError";
  } catch (const RouteError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/a/{y}"), std::string::npos) << what;
    EXPECT_NE(what.find("/a/{x}"), std::string::npos) << what;
  }
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(param(lookup(r, "GET", "/a/1"), "x"), "1");  // the first route is untouched
  EXPECT_NO_THROW(r.add("POST", "/a/{y}", 3));
  EXPECT_NO_THROW(r.add("GET", "/a/{x:int}", 4));  // a different shape
  EXPECT_THROW(r.add("GET", "/a/{z:int}", 5), RouteError);
  EXPECT_NO_THROW(r.add("GET", "/a/{x:path}", 6));
  EXPECT_THROW(r.add("GET", "/a/{rest:path}", 7), RouteError);
  EXPECT_THROW(r.add("GET", "/a/{x:str}", 8), RouteError);  // str is the default type
  r.add("GET", "/s", 9);
  EXPECT_THROW(r.add("GET", "/s", 10), RouteError);
  EXPECT_EQ(r.size(), 5u);
}

TEST(Router, MalformedPatternsAreRejected) {
  const char* bad[] = {
      "",               // no leading '/'
      "a/b",            // no leading '/'
      "/a/{x",          // unclosed
      "/a/{x}}",        // stray brace
      "/a/x}",          // stray brace
      "/a/{}",          // empty name
      "/a/{:int}",      // empty name
      "/a/{x:}",        // empty type
      "/a/{x:float}",   // unknown type
      "/a/{x:path}/b",  // tail not last
      "/a/{x}/{x}",     // duplicate name
      "/a/{x}-{y}",     // not a whole segment
      "/a/v{x}",        // not a whole segment
      "/a/{1x}",        // not an identifier
      "/a/{x-y}",       // not an identifier
      "/a?b",           // query in a pattern
      "/a b",           // whitespace
  };
  for (const char* p : bad) {
    Router r;
    EXPECT_THROW(r.add("GET", p, 1), RouteError) << p;
    EXPECT_EQ(r.size(), 0u) << p;
  }
  Router r;
  try {
    r.add("GET", "/a/{x:float}", 1);
  } catch (const RouteError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown parameter type 'float'"), std::string::npos);
  }
}

TEST(Router, MovedRouterKeepsItsRoutes) {
  Router a;
  a.add("GET", "/x/{id}", 1);
  Router b = std::move(a);
  const std::string path = "/x/7";
  RouteMatch m;
  b.find(Method::kGet, "GET", path, m);
  EXPECT_EQ(m.status, RouteStatus::kFound);
  EXPECT_EQ(m.params[0].name, "id");
  a.find(Method::kGet, "GET", path, m);  // moved-from: empty, not a crash
  EXPECT_EQ(m.status, RouteStatus::kNotFound);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.size(), 1u);
  a.add("GET", "/again", 2);  // and usable again
  a.find(Method::kGet, "GET", "/again", m);
  EXPECT_EQ(m.handler, 2u);
  b = std::move(a);
  EXPECT_EQ(b.size(), 1u);
  b.find(Method::kGet, "GET", path, m);
  EXPECT_EQ(m.status, RouteStatus::kNotFound);
}

TEST(Router, WordAtATimeScanningAtEveryOffset) {
  // Segments of 1..20 bytes around the 8-byte word size, at paths shorter and longer than 8.
  for (size_t a = 1; a <= 20; ++a) {
    for (size_t b = 0; b <= 20; ++b) {
      const std::string s1(a, 'x'), s2(b, 'y');
      Router r;
      r.add("GET", "/" + s1, 1);
      r.add("GET", "/" + s1 + "/" + s2, 2);
      r.add("GET", "/" + s1 + "/{p}/z", 3);
      EXPECT_EQ(get_id(r, "/" + s1), 1) << a << " " << b;
      EXPECT_EQ(get_id(r, "/" + s1 + "/" + s2), 2) << a << " " << b;
      EXPECT_EQ(get_id(r, "/" + s1 + "x"), -1);
      EXPECT_EQ(get_id(r, "/" + s1.substr(1)), -1);
      if (b != 0) {
        EXPECT_EQ(get_id(r, "/" + s1 + "/" + s2 + "y"), -1);
        const std::string path = "/" + s1 + "/" + s2 + "q/z";
        const RouteMatch m = lookup(r, "GET", path);
        EXPECT_EQ(m.handler, 3u) << path;
        EXPECT_EQ(param(m, "p"), s2 + "q");
      }
    }
  }
}

// A deliberately simple model of the matching rules: each route is matched on its own, and the
// match whose per-segment kinds (static < int < str < path) are lexicographically smallest wins.
struct ModelRoute {
  std::string method, pattern;
  uint32_t handler;
};

struct ModelResult {
  RouteStatus status = RouteStatus::kNotFound;
  uint32_t handler = 0;
  std::vector<std::string> values;
};

std::vector<std::string> split_segments(std::string_view path) {  // path starts with '/'
  std::vector<std::string> out;
  size_t pos = 1;
  for (;;) {
    const size_t slash = path.find('/', pos);
    out.emplace_back(path.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
    if (slash == std::string_view::npos) return out;
    pos = slash + 1;
  }
}

bool model_is_int(const std::string& s) {
  const size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
  return s.size() > start &&
         std::all_of(s.begin() + start, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Kinds vector and values if `pattern` matches `path`.
std::optional<std::pair<std::vector<int>, std::vector<std::string>>> model_match(
    const std::string& pattern, const std::string& path) {
  const std::vector<std::string> ps = split_segments(pattern), xs = split_segments(path);
  std::vector<int> kinds;
  std::vector<std::string> values;
  size_t offset = 1;  // byte offset of xs[i] in path
  for (size_t i = 0; i < ps.size(); ++i) {
    const std::string& p = ps[i];
    if (p.find(":path}") != std::string::npos) {
      if (i >= xs.size()) return std::nullopt;
      kinds.push_back(3);
      values.push_back(path.substr(offset));
      return std::make_pair(kinds, values);
    }
    if (i >= xs.size()) return std::nullopt;
    const std::string& x = xs[i];
    if (p.empty() || p[0] != '{') {
      if (p != x) return std::nullopt;
      kinds.push_back(0);
    } else if (p.find(":int}") != std::string::npos) {
      if (!model_is_int(x)) return std::nullopt;
      kinds.push_back(1);
      values.push_back(x);
    } else {
      if (x.empty()) return std::nullopt;
      kinds.push_back(2);
      values.push_back(x);
    }
    offset += x.size() + 1;
  }
  if (ps.size() != xs.size()) return std::nullopt;
  return std::make_pair(kinds, values);
}

ModelResult model_find(const std::vector<ModelRoute>& routes, const std::string& method,
                       const std::string& path) {
  ModelResult best, partial;
  std::optional<std::vector<int>> best_kinds, partial_kinds;
  for (const ModelRoute& r : routes) {
    auto m = model_match(r.pattern, path);
    if (!m) continue;
    const bool method_ok = r.method == method || r.method == "*";
    if (method_ok) {
      // Among routes of the same shape an explicit method beats "*".
      if (!best_kinds || m->first < *best_kinds || (m->first == *best_kinds && r.method != "*")) {
        best_kinds = m->first;
        best = {RouteStatus::kFound, r.handler, m->second};
      }
    } else if (!partial_kinds || m->first < *partial_kinds) {
      partial_kinds = m->first;
      partial.status = RouteStatus::kMethodNotAllowed;
    }
  }
  return best_kinds ? best : partial;
}

std::string random_pattern(std::mt19937& rng) {
  static const char* kStatic[] = {"a", "b", "ab", "1", ""};
  const int n = std::uniform_int_distribution<int>(0, 4)(rng);
  std::string p;
  for (int i = 0; i < n || i == 0; ++i) {
    p += "/";
    if (n == 0) break;
    const int k = std::uniform_int_distribution<int>(0, 9)(rng);
    const std::string name = "p" + std::to_string(i);
    if (k < 5) {
      p += kStatic[k];
    } else if (k < 7) {
      p += "{" + name + ":int}";
    } else if (k < 9 || i + 1 < n) {
      p += "{" + name + "}";
    } else {
      p += "{" + name + ":path}";
    }
  }
  return p;
}

std::string random_path(std::mt19937& rng) {
  static const char* kSegments[] = {"a", "b", "ab", "1", "-2", "", "xyzxyzxyzxyz"};
  const int n = std::uniform_int_distribution<int>(1, 5)(rng);
  std::string p;
  for (int i = 0; i < n; ++i) p += std::string("/") + kSegments[rng() % std::size(kSegments)];
  return p;
}

TEST(Router, AgreesWithASimpleModelOnRandomTables) {
  std::mt19937 rng(12345);  // fixed seed: reproducible
  const char* kMethods[] = {"GET", "POST", "*"};
  size_t found = 0, not_allowed = 0, compared = 0;
  for (int table = 0; table < 300; ++table) {
    Router router;
    std::vector<ModelRoute> model;
    for (uint32_t i = 0; i < 12; ++i) {
      const std::string method = kMethods[rng() % 3];
      const std::string pattern = random_pattern(rng);
      // Shape: the pattern with parameter names erased.
      auto shape = [](const std::string& p) {
        std::string out;
        for (const std::string& seg : split_segments(p)) {
          out += "/" + (seg.empty() || seg[0] != '{' ? seg : seg.substr(seg.find_first_of(":}")));
        }
        return out;
      };
      const bool conflict = std::any_of(model.begin(), model.end(), [&](const ModelRoute& r) {
        return r.method == method && shape(r.pattern) == shape(pattern);
      });
      if (conflict) {
        EXPECT_THROW(router.add(method, pattern, i), RouteError) << method << " " << pattern;
        continue;
      }
      ASSERT_NO_THROW(router.add(method, pattern, i)) << method << " " << pattern;
      model.push_back({method, pattern, i});
    }
    for (int q = 0; q < 40; ++q) {
      const std::string path = random_path(rng);
      const std::string method = q % 2 ? "GET" : "PUT";
      const ModelResult want = model_find(model, method, path);
      const RouteMatch got = lookup(router, method, path);
      ++compared;
      ASSERT_EQ(got.status, want.status) << method << " " << path << " table " << table;
      if (want.status != RouteStatus::kFound) {
        not_allowed += want.status == RouteStatus::kMethodNotAllowed;
        continue;
      }
      ++found;
      EXPECT_EQ(got.handler, want.handler) << path;
      ASSERT_EQ(got.num_params, want.values.size()) << path;
      for (size_t i = 0; i < got.num_params; ++i) EXPECT_EQ(got.params[i].value, want.values[i]);
    }
  }
  // The random tables exercise all three outcomes.
  EXPECT_GT(found, compared / 20);
  EXPECT_GT(not_allowed, 0u);
  EXPECT_LT(found + not_allowed, compared);
}

TEST(Router, GithubApiTableMatchesEveryRoute) {
  Router r;
  for (size_t i = 0; i < bench::kGithubApiRoutes.size(); ++i) {
    const auto& route = bench::kGithubApiRoutes[i];
    r.add(route.method, route.pattern, static_cast<uint32_t>(i));
  }
  EXPECT_EQ(r.size(), 203u);
  for (size_t i = 0; i < bench::kGithubApiRoutes.size(); ++i) {
    const auto& route = bench::kGithubApiRoutes[i];
    const RouteMatch m = lookup(r, route.method, route.path);
    ASSERT_EQ(m.status, RouteStatus::kFound) << route.method << " " << route.path;
    EXPECT_EQ(m.handler, i) << route.path;
    EXPECT_EQ(m.pattern, route.pattern);
  }
  EXPECT_EQ(lookup(r, "PATCH", "/user").status, RouteStatus::kMethodNotAllowed);
  EXPECT_EQ(lookup(r, "GET", "/repos/a/b/nope").status, RouteStatus::kNotFound);
}

TEST(Router, FindDoesNotAllocate) {
  Router r;
  for (const auto& route : bench::kGithubApiRoutes) r.add(route.method, route.pattern, 1);
  r.add("GET", "/files/{p:path}", 2);
  r.add("GET", "/n/{id:int}", 3);
  r.add("PURGE", "/cache", 4);
  const std::vector<std::pair<std::string_view, std::string_view>> probes = {
      {"GET", "/repos/julienschmidt/httprouter/stats/punch_card"},
      {"HEAD", "/user/repos"},
      {"PATCH", "/user/repos"},  // 405
      {"GET", "/no/such/path"},  // 404
      {"GET", "/files/a/b/c"},
      {"GET", "/n/-12"},
      {"PURGE", "/cache"},
      {"BREW", "/cache"},
  };
  RouteMatch m;
  size_t found = 0;
  const size_t before = g_allocations;
  for (const auto& [method, path] : probes) {
    r.find(method_id(method), method, path, m);
    found += m.status == RouteStatus::kFound;
  }
  const size_t after = g_allocations;
  EXPECT_EQ(after, before);
  EXPECT_EQ(found, 5u);
  // The counter itself works: a registration allocates.
  r.add("GET", "/counted", 5);
  EXPECT_GT(g_allocations, after);
}

}  // namespace
}  // namespace fa::http
