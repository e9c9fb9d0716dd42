// Accept-Encoding negotiation (RFC 9110 §12.5.3): q-values, q=0, `*`, identity, server order.
#include "compress/accept_encoding.h"

#include <gtest/gtest.h>

namespace fa::compress {
namespace {

const CodingSet kAll = CodingSet::all();
const CodingSet kGzipOnly = CodingSet().with(Coding::kGzip);

TEST(QValue, Grammar) {
  EXPECT_EQ(parse_qvalue("1"), 1000);
  EXPECT_EQ(parse_qvalue("1.000"), 1000);
  EXPECT_EQ(parse_qvalue("0"), 0);
  EXPECT_EQ(parse_qvalue("0.5"), 500);
  EXPECT_EQ(parse_qvalue("0.001"), 1);
  EXPECT_EQ(parse_qvalue("0."), 0);
  EXPECT_EQ(parse_qvalue("1.001"), -1);
  EXPECT_EQ(parse_qvalue("2"), -1);
  EXPECT_EQ(parse_qvalue("-1"), -1);
  EXPECT_EQ(parse_qvalue("0.0001"), -1);
  EXPECT_EQ(parse_qvalue("abc"), -1);
  EXPECT_EQ(parse_qvalue(""), -1);
}

struct Case {
  const char* header;
  CodingSet offered;
  Coding want;
};

class Negotiate : public ::testing::TestWithParam<Case> {};

TEST_P(Negotiate, Chooses) {
  const Case& c = GetParam();
  EXPECT_EQ(negotiate(c.header, c.offered), c.want) << "Accept-Encoding: " << c.header;
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, Negotiate,
    ::testing::Values(
        // Server order at equal q: zstd > br > gzip.
        Case{"gzip, deflate, br, zstd", kAll, Coding::kZstd},
        Case{"gzip, br", kAll, Coding::kBrotli}, Case{"gzip", kAll, Coding::kGzip},
        Case{"*", kAll, Coding::kZstd},
        // Higher q wins over server order.
        Case{"zstd;q=0.5, gzip;q=0.9", kAll, Coding::kGzip},
        Case{"br;q=1.0, gzip;q=0.8, *;q=0.1", kAll, Coding::kBrotli},
        Case{"br;q=0.2, *;q=0.5", kAll, Coding::kZstd},
        // q=0 refuses, also through `*`.
        Case{"gzip;q=0", kAll, Coding::kIdentity}, Case{"gzip;q=0.000, br", kAll, Coding::kBrotli},
        Case{"*;q=0", kAll, Coding::kIdentity}, Case{"gzip;q=0, *", kGzipOnly, Coding::kIdentity},
        Case{"gzip;q=0, *", kAll, Coding::kZstd}, Case{"zstd;q=0, br;q=0, *", kAll, Coding::kGzip},
        // identity listed with a higher q keeps the body; `*` never does.
        Case{"gzip;q=0.5, identity", kAll, Coding::kIdentity},
        Case{"gzip;q=1, identity;q=0.5", kAll, Coding::kGzip},
        Case{"gzip;q=0.5, identity;q=0.5", kAll, Coding::kGzip},
        Case{"identity;q=0, *", kGzipOnly, Coding::kGzip},
        Case{"identity", kAll, Coding::kIdentity}, Case{"", kAll, Coding::kIdentity},
        // Names are case-insensitive; x-gzip is gzip; whitespace is optional.
        Case{"GZIP", kGzipOnly, Coding::kGzip}, Case{"x-gzip", kGzipOnly, Coding::kGzip},
        Case{"deflate , Gzip ; q = 0.5", kAll, Coding::kGzip},
        Case{"GZIP;Q=0", kGzipOnly, Coding::kIdentity},
        // Malformed members are ignored, the rest still counts.
        Case{"gzip;q=abc, br", kAll, Coding::kBrotli}, Case{"gzip;q=2", kAll, Coding::kIdentity},
        Case{"gzip;q=-1", kAll, Coding::kIdentity}, Case{"gzip;junk, zstd", kAll, Coding::kZstd},
        Case{"gzipx, notgzip, br-like", kAll, Coding::kIdentity},
        Case{",,, ;q=1, gzip", kAll, Coding::kGzip},
        // Not offered by the server: never chosen.
        Case{"br, zstd", kGzipOnly, Coding::kIdentity},
        Case{"gzip", CodingSet(), Coding::kIdentity},
        // Duplicates: the highest q counts.
        Case{"gzip;q=0.1, gzip;q=0.9, br;q=0.5", kAll, Coding::kGzip}));

TEST(AcceptEncoding, SeveralFieldLinesAreOneList) {
  AcceptEncoding ae;
  ae.add("gzip;q=0.5");
  ae.add("br;q=0.7");
  EXPECT_EQ(ae.choose(CodingSet::all()), Coding::kBrotli);
  EXPECT_EQ(ae.qvalue(Coding::kGzip), 500);
  EXPECT_EQ(ae.qvalue(Coding::kZstd), -1);
}

}  // namespace
}  // namespace fa::compress
