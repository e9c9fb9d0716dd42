// Accept-Encoding negotiation (RFC 9110 §12.5.3): which of the offered codings to use.
#pragma once

#include <string_view>

#include "compress/coding.h"

namespace fa::compress {

// Picks the coding for a response given the request's Accept-Encoding field value (several
// field lines joined by ", ", or passed one by one to AcceptEncoding::add).
//  - each listed coding has its q (default 1); q=0 means "not acceptable";
//  - `*` gives its q to every coding not listed by name;
//  - among offered codings with the highest q > 0, the server's order wins: zstd > br > gzip;
//  - an explicitly listed `identity` with a higher q than that keeps the body as is;
//  - malformed members (bad q, stray parameters) are ignored, never an error.
// Returns kIdentity when nothing offered is acceptable (the identity fallback).
class AcceptEncoding {
 public:
  // Adds the members of one Accept-Encoding field line.
  void add(std::string_view field_value);
  Coding choose(CodingSet offered) const;
  // q of a coding in thousandths (0..1000) as the header gives it, or -1 if not mentioned
  // (neither by name nor by `*`); for tests and the fuzzer's invariants.
  int qvalue(Coding c) const;

 private:
  // q in thousandths per coding, -1 when absent; index = Coding.
  int named_[4] = {-1, -1, -1, -1};
  int star_ = -1;
};

// One-call form: negotiate(field_value, offered).
Coding negotiate(std::string_view accept_encoding, CodingSet offered);

// Parses an RFC 9110 §12.4.2 qvalue ("0", "0.5", "1.000") into thousandths; -1 if malformed.
int parse_qvalue(std::string_view v);

}  // namespace fa::compress
