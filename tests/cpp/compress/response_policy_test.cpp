// Which responses get compressed: status, HEAD, type, size, Content-Encoding, ranges.
#include "compress/response_policy.h"

#include <gtest/gtest.h>

namespace fa::compress {
namespace {

CompressionConfig on() {
  CompressionConfig c;
  c.codings = CodingSet::all();
  c.min_size = 500;
  return c;
}

Plan plan(ResponseFacts r, Coding negotiated = Coding::kGzip) {
  return plan_response(on(), negotiated, r);
}

TEST(CompressibleType, Lists) {
  for (const char* t : {"text/html", "text/plain; charset=utf-8", "TEXT/CSS", "application/json",
                        "application/problem+json", "application/atom+xml", "image/svg+xml",
                        "application/javascript", "text/event-stream", "application/x-ndjson"})
    EXPECT_TRUE(compressible_type(t)) << t;
  for (const char* t : {"image/png", "application/octet-stream", "application/zip", "video/mp4", "",
                        "application/jsonx"})
    EXPECT_FALSE(compressible_type(t)) << t;
}

TEST(Plan, CompressesLargeJson) {
  Plan p = plan({200, false, "application/json", "", 1000});
  EXPECT_TRUE(p.compress);
  EXPECT_TRUE(p.vary);
}

TEST(Plan, OffWhenDisabled) {
  Plan p = plan_response(CompressionConfig{}, Coding::kGzip, {200, false, "text/html", "", 5000});
  EXPECT_FALSE(p.vary);
  EXPECT_FALSE(p.compress);
}

TEST(Plan, VaryEvenWhenTheClientAcceptsNoCoding) {
  Plan p = plan({200, false, "text/html", "", 5000}, Coding::kIdentity);
  EXPECT_TRUE(p.vary);
  EXPECT_FALSE(p.compress);
}

TEST(Plan, SmallBodiesAsIs) {
  EXPECT_FALSE(plan({200, false, "text/html", "", 499}).compress);
  EXPECT_TRUE(plan({200, false, "text/html", "", 500}).compress);
  EXPECT_TRUE(plan({200, false, "text/html", "", -1}).compress);  // streamed: size unknown
}

TEST(Plan, NoContentStatusesAndRanges) {
  for (int status : {101, 204, 206, 304})
    EXPECT_FALSE(plan({status, false, "text/html", "", 5000}).vary) << status;
  EXPECT_FALSE(plan({200, false, "text/html", "Content-Range: bytes 0-9/100\r\n", 5000}).compress);
}

TEST(Plan, NeverTwice) {
  Plan p = plan({200, false, "text/html", "Content-Encoding: gzip\r\n", 5000});
  EXPECT_FALSE(p.compress);
  EXPECT_FALSE(p.vary);
  EXPECT_FALSE(plan({200, false, "text/html", "content-encoding: identity\r\n", 5000}).compress);
}

TEST(Plan, NoTransform) {
  EXPECT_FALSE(
      plan({200, false, "text/html", "Cache-Control: public, no-transform\r\n", 5000}).compress);
}

TEST(Plan, HeadIsPlannedAsGet) {
  // RFC 9110 §9.3.2: HEAD answers the header fields GET would, Content-Encoding included.
  Plan p = plan({200, true, "text/html", "", 5000});
  EXPECT_TRUE(p.vary);
  EXPECT_TRUE(p.compress);
  EXPECT_FALSE(plan({200, true, "text/html", "", 10}).compress);  // below min_size, as GET
}

TEST(Plan, ContentTypeFromHeaderLines) {
  EXPECT_TRUE(plan({200, false, "", "X-A: b\r\nContent-Type: text/html\r\n", 5000}).compress);
  EXPECT_FALSE(plan({200, false, "", "Content-Type: image/png\r\n", 5000}).compress);
}

TEST(Plan, OnlyOfferedCodings) {
  CompressionConfig c = on();
  c.codings = CodingSet().with(Coding::kGzip);
  EXPECT_FALSE(plan_response(c, Coding::kZstd, {200, false, "text/html", "", 5000}).compress);
}

}  // namespace
}  // namespace fa::compress
