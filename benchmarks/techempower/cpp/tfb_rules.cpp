#include "tfb_rules.h"

#include <algorithm>
#include <charconv>

#include "json/output_buffer.h"
#include "json/string_escape.h"

namespace tfb {

namespace {

// The raw value of `key` in "a=1&b=2" (not percent-decoded: counts are plain digits); `found`
// tells a missing key from an empty value.
std::string_view param(std::string_view query, std::string_view key, bool& found) {
  found = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.size() >= key.size() && pair.substr(0, key.size()) == key &&
        (pair.size() == key.size() || pair[key.size()] == '=')) {
      found = true;
      return pair.size() == key.size() ? std::string_view() : pair.substr(key.size() + 1);
    }
  }
  return {};
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

int query_count(std::string_view query, std::string_view key) {
  bool found = false;
  std::string_view v = param(query, key, found);
  if (!found || v.empty()) return 1;
  bool negative = v.front() == '-';
  if (v.front() == '-' || v.front() == '+') v.remove_prefix(1);
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return 1;  // not an integer
  if (negative) return 1;
  // Digits only: anything longer than 3 digits (after leading zeros) is above 500.
  v.remove_prefix(std::min(v.find_first_not_of('0'), v.size()));
  if (v.size() > 3) return kMaxQueries;
  int n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return std::clamp(n, 1, kMaxQueries);
}

void append_world(std::string& out, World w) {
  out.append(R"({"id":)");
  append_int(out, w.id);
  out.append(R"(,"randomNumber":)");
  append_int(out, w.random_number);
  out.push_back('}');
}

void append_worlds(std::string& out, std::span<const World> worlds) {
  out.reserve(out.size() + worlds.size() * 32 + 2);
  out.push_back('[');
  for (size_t i = 0; i < worlds.size(); ++i) {
    if (i) out.push_back(',');
    append_world(out, worlds[i]);
  }
  out.push_back(']');
}

std::string hello_json() {
  std::string body;
  fa::json::OutputBuffer out(body);
  out.put('{');
  fa::json::append_json_string_fast(out, "message");
  out.put(':');
  fa::json::append_json_string_fast(out, "Hello, World!");
  out.put('}');
  out.commit();
  return body;
}

void append_html_escaped(std::string& out, std::string_view text) {
  size_t from = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    std::string_view ref;
    switch (text[i]) {
      case '&':
        ref = "&amp;";
        break;
      case '<':
        ref = "&lt;";
        break;
      case '>':
        ref = "&gt;";
        break;
      case '"':
        ref = "&quot;";
        break;
      case '\'':
        ref = "&#x27;";
        break;
      default:
        continue;
    }
    out.append(text.substr(from, i - from)).append(ref);
    from = i + 1;
  }
  out.append(text.substr(from));
}

std::string fortunes_page(std::vector<Fortune> rows) {
  rows.push_back({0, kAddedFortune});
  // string_view compares as unsigned bytes (char_traits<char>): UTF-8 code point order.
  std::sort(rows.begin(), rows.end(),
            [](const Fortune& a, const Fortune& b) { return a.message < b.message; });
  std::string page;
  page.reserve(1536);
  page.append(
      "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
      "<tr><th>id</th><th>message</th></tr>");
  for (const Fortune& f : rows) {
    page.append("<tr><td>");
    append_int(page, f.id);
    page.append("</td><td>");
    append_html_escaped(page, f.message);
    page.append("</td></tr>");
  }
  page.append("</table></body></html>");
  return page;
}

}  // namespace tfb
