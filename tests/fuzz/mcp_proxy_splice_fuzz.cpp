// libFuzzer target, differential: the proxy's one-pass without_members (names.cpp) against
// simdjson's DOM on every input the DOM reads as an object — the same members, in the same
// order, with the same values, and valid JSON out. Also the JSON-RPC parser's member lookups
// (jsonrpc.cpp open_object) on arbitrary bytes: no crash, no hang.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mcp/jsonrpc.h"
#include "mcp/proxy/names.h"

namespace {

// The members but resultType and ttlMs, as the DOM reads them: keys unescaped and re-encoded,
// values minified (so differences of spacing and escaping do not count).
std::string dom_without(simdjson::dom::object root) {
  std::string out = "{";
  for (auto [k, v] : root) {
    if (k == "resultType" || k == "ttlMs") continue;
    if (out.size() > 1) out += ',';
    fa::mcp::append_string(out, k);
    out += ':';
    out += simdjson::minify(v);
  }
  return out + "}";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::string got = fa::mcp::proxy::without_members(in, {"resultType", "ttlMs"});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object root;
  if (!parser.parse(in).get(doc) && !doc.get_object().get(root)) {
    std::string want = dom_without(root);
    simdjson::dom::parser again;
    simdjson::dom::element out_doc;
    simdjson::dom::object out_root;
    if (again.parse(got).get(out_doc) || out_doc.get_object().get(out_root)) std::abort();
    if (dom_without(out_root) != want) std::abort();  // a member lost, kept or changed
  }
  static fa::mcp::Parser members;
  std::string_view s;
  (void)members.raw_member(in, "id");
  (void)members.string_member(in, "method", s);
  std::vector<std::pair<std::string, std::string>> all;
  (void)members.object_members(in, all);
  std::vector<std::string> strings;
  (void)members.string_array_member(in, "a", strings);
  return 0;
}
