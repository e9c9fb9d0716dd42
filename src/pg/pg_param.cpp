// Param::encode: text forms the server's input functions accept (int4in, float8in, boolin, ...).
#include "pg/pg_param.h"

#include <charconv>
#include <cmath>

namespace fa::pg {

void Param::encode(std::string& out) const {
  char buf[32];
  switch (kind_) {
    case Kind::kNull:
      return;
    case Kind::kBool:
      out.push_back(i_ ? 't' : 'f');
      return;
    case Kind::kInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, i_);
      out.append(buf, r.ptr);
      return;
    }
    case Kind::kUInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, u_);
      out.append(buf, r.ptr);
      return;
    }
    case Kind::kDouble: {
      // float8in spells the specials this way; to_chars gives the shortest exact form otherwise.
      if (std::isnan(d_)) {
        out.append("NaN");
        return;
      }
      if (std::isinf(d_)) {
        out.append(d_ > 0 ? "Infinity" : "-Infinity");
        return;
      }
      auto r = std::to_chars(buf, buf + sizeof buf, d_);
      out.append(buf, r.ptr);
      return;
    }
    case Kind::kText:
    case Kind::kBytes:
      out.append(s_);
      return;
  }
}

}  // namespace fa::pg
