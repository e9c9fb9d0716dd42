// Test helpers for the HTTP/1.1 parser: inputs placed against the end of an exact-size heap
// buffer (so ASan reports any over-read), and a comparable snapshot of a parse result.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/h1_parser.h"

namespace fa::http::test {

// Owns exactly `bytes.size()` heap bytes holding a copy of `bytes`.
class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view bytes)
      : data_(std::make_unique<char[]>(bytes.size())), size_(bytes.size()) {
    if (!bytes.empty()) std::memcpy(data_.get(), bytes.data(), bytes.size());
  }
  char* data() { return data_.get(); }
  size_t size() const { return size_; }
  std::string_view view() const { return std::string_view(data_.get(), size_); }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_;
};

// A parse result with owned copies of every view, so results of different buffers compare.
struct Outcome {
  int rc = 0;
  int status = 0;
  std::string reason;
  std::string method, target, path, query;
  Method method_id = Method::kOther;
  int minor = -1;
  std::vector<std::pair<std::string, std::string>> headers;
  bool keep_alive = false, chunked = false, expect_continue = false, upgrade = false;
  int64_t content_length = -1;
  size_t head_bytes = 0;
  bool operator==(const Outcome&) const = default;
};

inline void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{rc=" << o.rc << " status=" << o.status << " reason='" << o.reason << "' " << o.method
      << " " << o.target << " minor=" << o.minor << " headers=" << o.headers.size()
      << " ka=" << o.keep_alive << " chunked=" << o.chunked << " cl=" << o.content_length << "}";
}

inline bool view_inside(std::string_view v, std::string_view buf) {
  if (v.empty()) return true;
  return v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size();
}

// Snapshot of `head` after parse_request returned rc on `buf`; checks views lie inside `buf`.
inline Outcome snapshot(int rc, const RequestParser& parser, const RequestHead& head,
                        std::string_view buf) {
  Outcome o;
  o.rc = rc;
  if (rc == kError) {
    o.status = parser.error().status;
    o.reason = std::string(parser.error().reason);
    EXPECT_FALSE(o.reason.empty());
    return o;
  }
  if (rc == kPartial) return o;
  EXPECT_GT(rc, 0);
  EXPECT_LE(static_cast<size_t>(rc), buf.size());
  for (std::string_view v : {head.method, head.target, head.path, head.query})
    EXPECT_TRUE(view_inside(v, buf));
  o.method = head.method;
  o.target = head.target;
  o.path = head.path;
  o.query = head.query;
  o.method_id = head.method_id;
  o.minor = head.version_minor;
  EXPECT_LE(head.num_headers, parser.limits().max_headers);
  for (size_t i = 0; i < head.num_headers; ++i) {
    EXPECT_TRUE(view_inside(head.headers[i].name, buf));
    EXPECT_TRUE(view_inside(head.headers[i].value, buf));
    o.headers.emplace_back(head.headers[i].name, head.headers[i].value);
  }
  o.keep_alive = head.keep_alive;
  o.chunked = head.chunked;
  o.expect_continue = head.expect_continue;
  o.upgrade = head.upgrade;
  o.content_length = head.content_length;
  o.head_bytes = head.head_bytes;
  EXPECT_EQ(head.head_bytes, static_cast<size_t>(rc));
  return o;
}

// Parses `input` in one call from an exact-size buffer.
inline Outcome parse_once(std::string_view input, const ParserLimits& limits = {},
                          ScanIsa isa = ScanIsa::kAuto) {
  ExactBuffer buf(input);
  RequestParser parser(limits, isa);
  RequestHead head;
  const int rc = parser.parse_request(buf.view(), 0, head);
  return snapshot(rc, parser, head, buf.view());
}

}  // namespace fa::http::test
