// multipart::Parser: parts, headers, every chunk split, CRLF edge cases, limits, errors.
#include "multipart/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "multipart/header_params.h"

namespace {

using fa::multipart::Limits;
using fa::multipart::Parser;
using fa::multipart::Part;
using fa::multipart::PartSink;
using fa::multipart::Status;

struct Collected {
  Part part;
  std::string data;
  bool ended = false;
};

class Collector : public PartSink {
 public:
  std::vector<Collected> parts;
  void on_part_begin(const Part& p) override { parts.push_back({p, "", false}); }
  void on_part_data(std::string_view b) override {
    ASSERT_FALSE(parts.empty());
    ASSERT_FALSE(parts.back().ended);
    parts.back().data.append(b);
  }
  void on_part_end() override { parts.back().ended = true; }
};

struct Outcome {
  Status status;
  int error_status = 0;
  std::string reason;
  std::vector<Collected> parts;
};

// Feeds `body` in chunks of `step` bytes (0 = whole), then finish().
Outcome parse(const std::string& body, size_t step = 0, Limits limits = {},
              std::string_view boundary = "XyZ") {
  Parser p(boundary, limits);
  Collector c;
  Status st = Status::kNeedMore;
  if (step == 0) step = body.size() ? body.size() : 1;
  for (size_t i = 0; i < body.size() && st == Status::kNeedMore; i += step) {
    st = p.feed(std::string_view(body).substr(i, step), c);
  }
  if (st == Status::kNeedMore) st = p.finish();
  return {st, p.error().status, std::string(p.error().reason), c.parts};
}

const std::string kTwoParts =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"user\"\r\n"
    "\r\n"
    "alice\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "X-Extra: 1\r\n"
    "\r\n"
    "line1\r\nline2\r\n--XyZ-not\r\n\r\n"
    "\r\n--XyZ--\r\n";

TEST(MultipartParser, DelimiterInsideContentFollowedByJunkIsAnError) {
  Outcome o = parse(kTwoParts);
  ASSERT_EQ(o.status, Status::kError) << "--XyZ-not inside content is a delimiter + junk";
  EXPECT_EQ(o.error_status, 400);
  EXPECT_EQ(o.reason, "multipart boundary not followed by CRLF");
}

const std::string kValid =
    "preamble is ignored\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"user\"\r\n"
    "\r\n"
    "alice\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "X-Extra: 1\r\n"
    "\r\n"
    "line1\r\nline2\r\n-XyZ\r\r\n-\r\n--Xy\r\n\r\n"
    "\r\n--XyZ  \t\r\n"
    "content-disposition: form-data; name=empty\r\n"
    "\r\n"
    "\r\n--XyZ--\r\nepilogue --XyZ junk";

TEST(MultipartParser, PartsHeadersAndContent) {
  Outcome o = parse(kValid);
  ASSERT_EQ(o.status, Status::kDone) << o.reason;
  ASSERT_EQ(o.parts.size(), 3u);
  EXPECT_EQ(o.parts[0].part.name, "user");
  EXPECT_FALSE(o.parts[0].part.is_file());
  EXPECT_EQ(o.parts[0].data, "alice");
  EXPECT_TRUE(o.parts[0].ended);
  EXPECT_EQ(o.parts[1].part.name, "file");
  EXPECT_EQ(o.parts[1].part.filename.value_or("?"), "a b.txt");
  EXPECT_EQ(o.parts[1].part.content_type, "text/plain");
  ASSERT_EQ(o.parts[1].part.headers.size(), 3u);
  EXPECT_EQ(o.parts[1].part.headers[2].first, "X-Extra");
  EXPECT_EQ(o.parts[1].part.headers[2].second, "1");
  EXPECT_EQ(o.parts[1].data, "line1\r\nline2\r\n-XyZ\r\r\n-\r\n--Xy\r\n\r\n");
  EXPECT_EQ(o.parts[2].part.name, "empty");
  EXPECT_EQ(o.parts[2].data, "");
  EXPECT_TRUE(o.parts[2].ended);
}

TEST(MultipartParser, EverySplitGivesTheSameParts) {
  const Outcome whole = parse(kValid);
  for (size_t step = 1; step < kValid.size(); ++step) {
    Outcome o = parse(kValid, step);
    ASSERT_EQ(o.status, Status::kDone) << "step " << step << ": " << o.reason;
    ASSERT_EQ(o.parts.size(), whole.parts.size()) << "step " << step;
    for (size_t i = 0; i < o.parts.size(); ++i) {
      EXPECT_EQ(o.parts[i].data, whole.parts[i].data) << "step " << step << " part " << i;
      EXPECT_EQ(o.parts[i].part.name, whole.parts[i].part.name) << "step " << step;
    }
  }
}

TEST(MultipartParser, FirstBoundaryAtByteZeroAndNoPreambleCrlf) {
  Outcome o = parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ--");
  ASSERT_EQ(o.status, Status::kDone) << o.reason;
  ASSERT_EQ(o.parts.size(), 1u);
  EXPECT_EQ(o.parts[0].data, "1");
}

TEST(MultipartParser, WindowsPathsLoseTheirDirectory) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=f; "
      "filename=\"C:\\\\Docs\\\\a.txt\"\r\n\r\n1\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=g; "
      "filename=\"\\\\\\\\srv\\\\b.txt\"\r\n\r\n2\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=h; "
      "filename=\"x\\\\y.txt\"\r\n\r\n3\r\n--XyZ--";
  Outcome o = parse(body);
  ASSERT_EQ(o.status, Status::kDone) << o.reason;
  ASSERT_EQ(o.parts.size(), 3u);
  EXPECT_EQ(*o.parts[0].part.filename, "a.txt");
  EXPECT_EQ(*o.parts[1].part.filename, "b.txt");
  EXPECT_EQ(*o.parts[2].part.filename, "x\\y.txt");  // not a path: kept (python-multipart too)
}

TEST(MultipartParser, PartWithoutHeadersIsRejected) {
  Outcome o = parse("--XyZ\r\n\r\nvalue\r\n--XyZ--\r\n");
  EXPECT_EQ(o.status, Status::kError);
  EXPECT_EQ(o.error_status, 400);
  EXPECT_NE(o.reason.find("Content-Disposition"), std::string::npos);
}

TEST(MultipartParser, MissingFinalBoundaryIsAnError) {
  Outcome o = parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue");
  EXPECT_EQ(o.status, Status::kError);
  EXPECT_EQ(o.error_status, 400);
  EXPECT_EQ(o.reason, "multipart body ended before the closing boundary");
  Outcome cut = parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue\r\n--XyZ");
  EXPECT_EQ(cut.status, Status::kError);
  Outcome none = parse("just some bytes");
  EXPECT_EQ(none.status, Status::kError);
  EXPECT_EQ(none.reason, "multipart body has no boundary line");
}

TEST(MultipartParser, BareLfAfterBoundaryIsAnError) {
  Outcome o = parse("--XyZ\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--");
  EXPECT_EQ(o.status, Status::kError);
  EXPECT_EQ(o.error_status, 400);
}

TEST(MultipartParser, MalformedHeaderLine) {
  Outcome o = parse("--XyZ\r\nno colon here\r\n\r\nv\r\n--XyZ--");
  EXPECT_EQ(o.status, Status::kError);
  EXPECT_EQ(o.reason, "malformed multipart part header line");
  Outcome name = parse("--XyZ\r\nBad Name: x\r\n\r\nv\r\n--XyZ--");
  EXPECT_EQ(name.status, Status::kError);
}

TEST(MultipartParser, FieldAndFileSizeLimits) {
  Limits lim;
  lim.max_field_bytes = 4;
  lim.max_file_bytes = 6;
  const std::string field =
      "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n12345\r\n--XyZ--";
  Outcome o = parse(field, 0, lim);
  EXPECT_EQ(o.status, Status::kError);
  EXPECT_EQ(o.error_status, 413);
  EXPECT_EQ(o.reason, "multipart field exceeds the maximum field size");
  const std::string ok = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1234\r\n--XyZ--";
  EXPECT_EQ(parse(ok, 1, lim).status, Status::kDone);
  const std::string file =
      "--XyZ\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\n1234567\r\n--XyZ--";
  Outcome f = parse(file, 3, lim);
  EXPECT_EQ(f.status, Status::kError);
  EXPECT_EQ(f.error_status, 413);
  EXPECT_EQ(f.reason, "multipart file exceeds the maximum file size");
}

TEST(MultipartParser, PartCountLimits) {
  Limits lim;
  lim.max_fields = 2;
  lim.max_files = 1;
  std::string body;
  for (int i = 0; i < 3; ++i)
    body += "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n";
  body += "--XyZ--";
  Outcome o = parse(body, 0, lim);
  EXPECT_EQ(o.status, Status::kError);
  EXPECT_EQ(o.error_status, 400);
  EXPECT_EQ(o.reason, "too many fields in the multipart body");
  EXPECT_EQ(o.parts.size(), 2u);
  std::string files;
  for (int i = 0; i < 2; ++i) {
    files += "--XyZ\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\nv\r\n";
  }
  files += "--XyZ--";
  EXPECT_EQ(parse(files, 0, lim).reason, "too many files in the multipart body");
}

TEST(MultipartParser, HeaderBlockLimit) {
  Limits lim;
  lim.max_header_bytes = 64;
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=a\r\nX-Long: " + std::string(100, 'x') +
      "\r\n\r\nv\r\n--XyZ--";
  for (size_t step : {size_t{0}, size_t{1}, size_t{7}}) {
    Outcome o = parse(body, step, lim);
    EXPECT_EQ(o.status, Status::kError) << step;
    EXPECT_EQ(o.error_status, 413) << step;
  }
  std::string fits = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--";
  EXPECT_EQ(parse(fits, 1, lim).status, Status::kDone);
}

TEST(MultipartParser, InvalidBoundary) {
  EXPECT_EQ(parse("--\r\n", 0, {}, "").status, Status::kError);
  EXPECT_EQ(parse("x", 0, {}, "a\rb").status, Status::kError);
  EXPECT_EQ(parse("x", 0, {}, std::string(71, 'b')).status, Status::kError);
}

TEST(MultipartParser, LargeBinaryContentSplitAnywhere) {
  std::string payload;
  for (int i = 0; i < 5000; ++i) payload.push_back(static_cast<char>((i * 131) % 256));
  payload += "\r\n--XyZ";  // the start of a delimiter, then more content: "\r\n--XyZ" + 'Q'
  payload += "Q\r\r\n\r\n-";
  // A delimiter followed by 'Q' is an error by RFC 2046, so keep it out of the content.
  payload.erase(payload.find("\r\n--XyZQ"), 8);
  const std::string body = "--XyZ\r\nContent-Disposition: form-data; name=f; filename=b\r\n\r\n" +
                           payload + "\r\n--XyZ--\r\n";
  for (size_t step : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{64}, size_t{4096}}) {
    Outcome o = parse(body, step);
    ASSERT_EQ(o.status, Status::kDone) << step << ": " << o.reason;
    ASSERT_EQ(o.parts.size(), 1u);
    EXPECT_EQ(o.parts[0].data, payload) << step;
  }
}

TEST(HeaderParams, DispositionParameters) {
  using fa::multipart::parse_header_value;
  auto hv = parse_header_value(R"(form-data; name="a\"b"; filename=plain.txt)");
  EXPECT_EQ(hv.main, "form-data");
  ASSERT_NE(hv.param("name"), nullptr);
  EXPECT_EQ(*hv.param("name"), "a\"b");
  EXPECT_EQ(*hv.param("filename"), "plain.txt");
  auto ext = parse_header_value(
      "form-data; filename*=UTF-8''%E2%82%AC%20rates.txt; name=f; filename=\"fallback\"");
  EXPECT_EQ(*ext.param("filename"), "\xE2\x82\xAC rates.txt");  // RFC 8187: `*` wins
  auto latin = parse_header_value("attachment; FILENAME*=iso-8859-1'en'%E9");
  EXPECT_EQ(*latin.param("filename"), "\xC3\xA9");
  auto win = parse_header_value(R"(form-data; name="f"; filename="C:\dir\a\"b\\.txt")");
  EXPECT_EQ(*win.param("filename"), "C:\\dir\\a\"b\\.txt");  // only \" and \\ unescape
  auto junk = parse_header_value("form-data; ; novalue; name=\"unterminated");
  EXPECT_EQ(junk.param("name"), nullptr);
}

TEST(HeaderParams, BoundaryFromContentType) {
  using fa::multipart::boundary_from_content_type;
  EXPECT_EQ(boundary_from_content_type("multipart/form-data; boundary=abc").value_or(""), "abc");
  EXPECT_EQ(boundary_from_content_type("Multipart/Form-Data;boundary=\"a b:c\"").value_or(""),
            "a b:c");
  EXPECT_FALSE(boundary_from_content_type("multipart/mixed; boundary=abc"));
  EXPECT_FALSE(boundary_from_content_type("multipart/form-data"));
  EXPECT_FALSE(boundary_from_content_type("multipart/form-data; boundary="));
}

}  // namespace
