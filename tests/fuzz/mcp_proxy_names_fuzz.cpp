// libFuzzer target: what MCPProxy parses from upstreams and clients — listing pages rewritten
// with qualified names, results stripped of members, completion refs, qualified names and URIs,
// upstream URLs. Must never crash or hang; a rewritten listing must itself be valid JSON whose
// items all carry the upstream's prefix.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mcp/client/http_upstream.h"
#include "mcp/proxy/names.h"

namespace px = fa::mcp::proxy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string items, cursor;
  for (const char* key : {"tools", "resources"}) {
    items.clear();
    bool is_uri = key[0] == 'r';
    if (px::qualify_listing(in, key, is_uri ? "uri" : "name", "up", is_uri, items, cursor)) {
      std::string wrapped = "[" + items + "]";
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      if (parser.parse(wrapped).get(doc)) std::abort();  // we produced invalid JSON
    }
  }
  std::string stripped = px::without_members(in, {"resultType", "ttlMs"});
  (void)stripped;
  std::string up, members;
  (void)px::unqualify_completion(in, up, members);
  std::string_view u, n;
  (void)px::split_name(in, u, n);
  (void)px::split_uri(in, u, n);
  fa::mcp::client::HttpUrl url;
  (void)fa::mcp::client::parse_http_url(in, url);
  return 0;
}
