// The TechEmpower Framework Benchmarks' rules for the C++ entry's answers: the ?queries= count
// rule, World JSON, and the fortunes page (HTML-escaped, the added row, sorted). Pure functions,
// so a unit test checks them without a server; tfb_routes wires them to HTTP and PostgreSQL.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tfb {

inline constexpr int kWorldRows = 10'000;
inline constexpr int kMaxQueries = 500;
inline constexpr std::string_view kAddedFortune = "Additional fortune added at request time.";

struct World {
  int32_t id = 0;
  int32_t random_number = 0;
};

struct Fortune {
  int32_t id = 0;
  std::string_view message;  // borrowed: from the query's Result, or kAddedFortune
};

// The value of `key` in a raw query string ("queries=20&x=1"), TFB's rule applied: missing, not
// an integer, or below 1 → 1; above 500 → 500.
int query_count(std::string_view query, std::string_view key);

// {"id":1,"randomNumber":2}
void append_world(std::string& out, World w);
// [{...},{...}]
void append_worlds(std::string& out, std::span<const World> worlds);

// {"message":"Hello, World!"}, serialized on each call (TFB forbids a cached body for json).
std::string hello_json();

// Appends text with & < > " ' replaced by character references (HTML's escaping of text and
// attribute values; TFB's fortune 11 is a <script>).
void append_html_escaped(std::string& out, std::string_view text);

// The fortunes page: `rows` plus the fortune added at request time (id 0), sorted by message
// (byte order of UTF-8 = code point order, as TFB's reference sorts), every message escaped.
std::string fortunes_page(std::vector<Fortune> rows);

}  // namespace tfb
