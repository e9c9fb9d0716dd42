// Accept-Encoding parsing and coding choice (RFC 9110 §12.5.3, qvalues §12.4.2).
#include "compress/accept_encoding.h"

#include <algorithm>

#include "http/ascii.h"

namespace fa::compress {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The member's q in thousandths from its parameters (";q=0.5;..."); 1000 when absent, -1 when
// any parameter is malformed.
int member_q(std::string_view params) {
  int q = 1000;
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.empty()) continue;
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) return -1;
    if (!http::ascii_iequals(trim(param.substr(0, eq)), "q")) continue;  // other params: ignored
    q = parse_qvalue(trim(param.substr(eq + 1)));
    if (q < 0) return -1;
  }
  return q;
}

}  // namespace

bool coding_from_name(std::string_view name, Coding& out) {
  using http::ascii_iequals;
  if (ascii_iequals(name, "gzip") || ascii_iequals(name, "x-gzip")) {
    out = Coding::kGzip;
  } else if (ascii_iequals(name, "br")) {
    out = Coding::kBrotli;
  } else if (ascii_iequals(name, "zstd")) {
    out = Coding::kZstd;
  } else if (ascii_iequals(name, "identity")) {
    out = Coding::kIdentity;
  } else {
    return false;
  }
  return true;
}

int parse_qvalue(std::string_view v) {
  // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int whole = v[0] - '0';
  if (v.size() == 1) return whole * 1000;
  if (v[1] != '.' || v.size() > 5) return -1;
  int frac = 0, scale = 100;
  for (char c : v.substr(2)) {
    if (c < '0' || c > '9') return -1;
    frac += (c - '0') * scale;
    scale /= 10;
  }
  if (whole == 1 && frac != 0) return -1;
  return whole * 1000 + frac;
}

void AcceptEncoding::add(std::string_view field_value) {
  while (!field_value.empty()) {
    size_t comma = field_value.find(',');
    std::string_view member = field_value.substr(0, comma);
    field_value =
        comma == std::string_view::npos ? std::string_view() : field_value.substr(comma + 1);
    size_t semi = member.find(';');
    std::string_view name = trim(member.substr(0, semi));
    if (name.empty()) continue;
    int q = member_q(semi == std::string_view::npos ? std::string_view() : member.substr(semi + 1));
    if (q < 0) continue;  // malformed member: ignored
    Coding c;
    if (name == "*") {
      star_ = std::max(star_, q);
    } else if (coding_from_name(name, c)) {
      int& slot = named_[static_cast<int>(c)];
      slot = std::max(slot, q);
    }
  }
}

int AcceptEncoding::qvalue(Coding c) const {
  int named = named_[static_cast<int>(c)];
  return named >= 0 ? named : star_;
}

Coding AcceptEncoding::choose(CodingSet offered) const {
  // The server's preference at equal q: the first of these wins.
  constexpr Coding kOrder[] = {Coding::kZstd, Coding::kBrotli, Coding::kGzip};
  Coding best = Coding::kIdentity;
  int best_q = 0;
  for (Coding c : kOrder) {
    if (!offered.has(c)) continue;
    int q = qvalue(c);
    if (q > best_q) {
      best = c;
      best_q = q;
    }
  }
  if (best == Coding::kIdentity) return best;
  // Only an explicitly listed identity competes: `*` never prefers an unencoded body.
  int identity_q = named_[static_cast<int>(Coding::kIdentity)];
  return identity_q > best_q ? Coding::kIdentity : best;
}

Coding negotiate(std::string_view accept_encoding, CodingSet offered) {
  AcceptEncoding ae;
  ae.add(accept_encoding);
  return ae.choose(offered);
}

}  // namespace fa::compress
