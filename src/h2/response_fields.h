// ResponseFields: a handler's preformatted header lines ("Name: value\r\n"...) as HTTP/2 field
// lines for nghttp2 — names lower-cased (RFC 9113 §8.2.1), connection-specific fields dropped
// (§8.2.2), values trimmed of surrounding whitespace. The nghttp2_nv views point into this
// object and into the lines, which must outlive the submit call.
#pragma once

#include <nghttp2/nghttp2.h>

#include <string>
#include <string_view>
#include <vector>

namespace fa::h2 {

// A name/value pair as nghttp2 takes it (views; nothing copied).
nghttp2_nv make_nv(std::string_view name, std::string_view value);

class ResponseFields {
 public:
  explicit ResponseFields(std::string_view lines);
  // Appends the fields to `nva` (after the caller's pseudo-header and own fields).
  void append_to(std::vector<nghttp2_nv>& nva) const;
  size_t size() const { return fields_.size(); }
  bool has_content_length() const { return has_content_length_; }

 private:
  struct Field {
    size_t name_off, name_len;
    std::string_view value;
  };
  std::string names_;  // the lower-cased names, back to back
  std::vector<Field> fields_;
  bool has_content_length_ = false;
};

}  // namespace fa::h2
