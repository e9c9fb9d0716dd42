// ResponseFields implementation.
#include "h2/response_fields.h"

#include "http/ascii.h"

namespace fa::h2 {

namespace {
// Connection-specific fields are not allowed in HTTP/2 (RFC 9113 §8.2.2).
bool connection_specific(std::string_view lower) {
  return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection" ||
         lower == "transfer-encoding" || lower == "upgrade";
}
}  // namespace

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

ResponseFields::ResponseFields(std::string_view lines) {
  names_.reserve(lines.size());
  while (!lines.empty()) {
    size_t eol = lines.find('\n');
    std::string_view line = lines.substr(0, eol);
    lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    size_t off = names_.size();
    for (char c : line.substr(0, colon)) names_.push_back(http::ascii_lower(c));
    std::string_view lower(names_.data() + off, colon);
    if (connection_specific(lower)) {
      names_.resize(off);
      continue;
    }
    if (lower == "content-length") has_content_length_ = true;
    fields_.push_back({off, colon, value});
  }
}

void ResponseFields::append_to(std::vector<nghttp2_nv>& nva) const {
  // names_ no longer grows: views into it are stable.
  for (const Field& f : fields_)
    nva.push_back(make_nv(std::string_view(names_.data() + f.name_off, f.name_len), f.value));
}

}  // namespace fa::h2
