// libFuzzer target: RequestParser::parse_request on arbitrary bytes, one-shot and fed in two
// parts, checking the parser's invariants (bytes consumed, views inside the input, limits,
// identical results however the input is split).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "http/h1_parser.h"

namespace {

using fa::http::kError;
using fa::http::kPartial;
using fa::http::ParserLimits;
using fa::http::RequestHead;
using fa::http::RequestParser;
using fa::http::ScanIsa;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "h1_parser_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

void check_result(int rc, const RequestParser& parser, const RequestHead& head,
                  std::string_view buf) {
  check(rc == kPartial || rc == kError || rc > 0, "return value");
  if (rc == kError) {
    const int s = parser.error().status;
    check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505, "error status");
    check(!parser.error().reason.empty(), "error reason");
    return;
  }
  if (rc <= 0) return;
  check(static_cast<size_t>(rc) <= buf.size(), "consumed <= len");
  check(static_cast<size_t>(rc) <= parser.limits().max_header_bytes,
        "consumed <= max_header_bytes");
  check(head.head_bytes == static_cast<size_t>(rc), "head_bytes");
  check(head.num_headers <= parser.limits().max_headers, "num_headers <= limit");
  check(!head.method.empty() && !head.target.empty(), "method and target");
  for (std::string_view v : {head.method, head.target, head.path, head.query})
    check(inside(v, buf), "view inside");
  for (size_t i = 0; i < head.num_headers; ++i) {
    check(inside(head.headers[i].name, buf) && inside(head.headers[i].value, buf),
          "header view inside");
    check(!head.headers[i].name.empty(), "header name");
  }
  check(head.version_minor <= 1, "version");
  check(!(head.chunked && head.content_length >= 0), "chunked xor content-length");
  check(head.content_length <= static_cast<int64_t>(parser.limits().max_body_bytes),
        "content-length limit");
  check(head.version_minor == 0 || head.header("host").data() != nullptr, "HTTP/1.1 has a Host");
  check(!head.chunked || head.version_minor == 1, "chunked only in 1.1");
}

// Runs one parse with the input against the end of an exact-size heap buffer.
int run(RequestParser& parser, std::string_view in, size_t prev, RequestHead& head) {
  auto copy = std::make_unique<char[]>(in.size() ? in.size() : 1);
  if (!in.empty()) std::memcpy(copy.get(), in.data(), in.size());
  const std::string_view buf(copy.get(), in.size());
  const int rc = parser.parse_request(buf, prev, head);
  check_result(rc, parser, head, buf);
  return rc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks small limits (so limits are exercised) and a split point.
  ParserLimits limits;
  if (data[0] & 1) {
    limits.max_request_line = 64;
    limits.max_header_bytes = 256;
    limits.max_headers = 8;
    limits.max_body_bytes = 1000;
  }
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const ScanIsa isas[] = {ScanIsa::kScalar, ScanIsa::kSse42, ScanIsa::kAvx2};
  int first_rc = 0;
  int first_status = 0;
  size_t first_headers = 0;
  for (size_t i = 0; i < 3; ++i) {
    RequestParser parser(limits, isas[i]);
    RequestHead head;
    const int rc = run(parser, in, 0, head);
    const int status = rc == kError ? parser.error().status : 0;
    const size_t nh = rc > 0 ? head.num_headers : 0;
    if (i == 0) {
      first_rc = rc, first_status = status, first_headers = nh;
    } else {
      check(rc == first_rc && status == first_status && nh == first_headers, "ISAs agree");
    }
  }
  // Fed in two parts: the final result equals the one-shot result.
  const size_t split = in.empty() ? 0 : (data[0] >> 1) % (in.size() + 1);
  RequestParser parser(limits);
  RequestHead head;
  int rc = run(parser, in.substr(0, split), 0, head);
  if (rc == kPartial) rc = run(parser, in, split, head);
  if (rc > 0) check(rc == first_rc, "split result equals one-shot");
  if (rc == kError)
    check(first_rc == kError && parser.error().status == first_status,
          "split error equals one-shot");
  return 0;
}
