// Compression policy per response (RFC 9110 §8.4, §12.5.5 Vary; RFC 9111 §5.2.2.6).
#include "compress/response_policy.h"

#include "http/ascii.h"

namespace fa::compress {

namespace {

using http::ascii_iequals;

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && ascii_iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool icontains(std::string_view s, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= s.size(); ++i)
    if (ascii_iequals(s.substr(i, needle.size()), needle)) return true;
  return false;
}

// What the handler's own header lines say about the body.
struct HeaderFacts {
  bool encoded = false;           // Content-Encoding present
  bool ranged = false;            // Content-Range present
  bool no_transform = false;      // Cache-Control: no-transform
  std::string_view content_type;  // a Content-Type line among them, if any
};

HeaderFacts scan_headers(std::string_view lines) {
  HeaderFacts f;
  while (!lines.empty()) {
    size_t eol = lines.find('\n');
    std::string_view line = lines.substr(0, eol);
    lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    if (ascii_iequals(name, "content-encoding")) {
      f.encoded = true;
    } else if (ascii_iequals(name, "content-range")) {
      f.ranged = true;
    } else if (ascii_iequals(name, "cache-control") &&
               icontains(line.substr(colon), "no-transform")) {
      f.no_transform = true;
    } else if (ascii_iequals(name, "content-type")) {
      f.content_type = line.substr(colon + 1);
      while (!f.content_type.empty() && f.content_type.front() == ' ')
        f.content_type.remove_prefix(1);
    }
  }
  return f;
}

}  // namespace

bool compressible_type(std::string_view ct) {
  size_t semi = ct.find(';');
  std::string_view t = ct.substr(0, semi);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r'))
    t.remove_suffix(1);
  if (istarts_with(t, "text/")) return true;
  if (iends_with(t, "+json") || iends_with(t, "+xml")) return true;
  static constexpr std::string_view kTypes[] = {
      "application/json",
      "application/xml",
      "application/javascript",
      "application/x-javascript",
      "application/ecmascript",
      "application/x-ndjson",
      "application/wasm",
      "application/graphql",
      "image/svg+xml",
      "image/x-icon",
      "font/ttf",
      "font/otf",
  };
  for (std::string_view k : kTypes)
    if (ascii_iequals(t, k)) return true;
  return false;
}

Plan plan_response(const CompressionConfig& config, Coding negotiated, const ResponseFacts& r) {
  Plan p;
  if (!config.enabled()) return p;
  if (r.status < 200 || r.status == 204 || r.status == 304 || r.status == 206) return p;
  if (r.length >= 0 && static_cast<size_t>(r.length) < config.min_size) return p;
  HeaderFacts h = scan_headers(r.extra_headers);
  if (!compressible_type(r.content_type.empty() ? h.content_type : r.content_type)) return p;
  if (h.encoded || h.ranged || h.no_transform) return p;
  p.vary = true;  // the representation now depends on Accept-Encoding (RFC 9110 §12.5.5)
  // HEAD is planned as GET: RFC 9110 §9.3.2 wants the same header fields (Content-Encoding).
  p.compress = negotiated != Coding::kIdentity && config.codings.has(negotiated);
  return p;
}

}  // namespace fa::compress
