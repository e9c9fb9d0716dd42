// Python binding for src/multipart: _native.parse_multipart(body, boundary, ...) parses a whole
// buffered body (the engine hands handlers the complete body) and returns its parts; file
// contents come back as (start, end) offsets into `body`, so Python slices them without a copy.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "multipart/header_params.h"
#include "multipart/parser.h"
#include "registry.h"

namespace nb = nanobind;
namespace mp = fa::multipart;

namespace fa::py {
namespace {

struct ParsedPart {
  mp::Part part;
  size_t start = 0;
  size_t end = 0;
  bool contiguous = true;  // the content is body[start:end]; else it is in `copy`
  std::string copy;
};

// Collects parts of one body fed in a single call; the content of a part is then one slice.
class CollectingSink : public mp::PartSink {
 public:
  explicit CollectingSink(std::string_view body) : body_(body) {}
  std::vector<ParsedPart> parts;

  void on_part_begin(const mp::Part& p) override {
    parts.push_back({p, 0, 0, true, {}});
    fresh_ = true;
  }
  void on_part_data(std::string_view b) override {
    ParsedPart& cur = parts.back();
    const bool inside =
        b.data() >= body_.data() && b.data() + b.size() <= body_.data() + body_.size();
    const size_t off = inside ? static_cast<size_t>(b.data() - body_.data()) : 0;
    if (fresh_ && inside) {
      cur.start = off;
      cur.end = off + b.size();
    } else if (cur.contiguous && inside && off == cur.end) {
      cur.end += b.size();
    } else {  // not one slice of the body (cannot happen with one feed; kept correct anyway)
      if (cur.contiguous) cur.copy.assign(body_.substr(cur.start, cur.end - cur.start));
      cur.contiguous = false;
      cur.copy.append(b);
    }
    fresh_ = false;
  }
  void on_part_end() override {}

 private:
  std::string_view body_;
  bool fresh_ = false;
};

// Returns (parts, error_status, error_reason); error_status is 0 on success. Each part is
// (name, filename | None, content_type, headers, value) where value is a str for a field and
// (start, end) into `body` (or bytes) for a file.
nb::tuple parse_multipart(nb::bytes body, const std::string& boundary, size_t max_fields,
                          size_t max_files, size_t max_field_size, uint64_t max_file_size,
                          size_t max_header_size) {
  const std::string_view view(body.c_str(), body.size());
  mp::Limits lim;
  lim.max_fields = max_fields;
  lim.max_files = max_files;
  lim.max_field_bytes = max_field_size;
  lim.max_file_bytes = max_file_size;
  lim.max_header_bytes = max_header_size;
  mp::Parser parser(boundary, lim);
  CollectingSink sink(view);
  mp::Status st;
  {
    nb::gil_scoped_release unlocked;  // `body` stays referenced by the caller's frame
    st = parser.feed(view, sink);
    if (st == mp::Status::kNeedMore) st = parser.finish();
  }
  if (st == mp::Status::kError) {
    return nb::make_tuple(nb::none(), parser.error().status, std::string(parser.error().reason));
  }
  nb::list out;
  for (ParsedPart& p : sink.parts) {
    nb::list headers;
    for (auto& [k, v] : p.part.headers) headers.append(nb::make_tuple(k, v));
    nb::object value;
    if (!p.part.is_file()) {
      const char* data = p.contiguous ? view.data() + p.start : p.copy.data();
      const size_t n = p.contiguous ? p.end - p.start : p.copy.size();
      PyObject* s = PyUnicode_DecodeUTF8(data, static_cast<Py_ssize_t>(n), "replace");
      if (s == nullptr) throw nb::python_error();
      value = nb::steal(s);
    } else if (p.contiguous) {
      value = nb::make_tuple(p.start, p.end);
    } else {
      value = nb::bytes(p.copy.data(), p.copy.size());
    }
    nb::object filename = p.part.filename ? nb::cast(*p.part.filename) : nb::none();
    out.append(nb::make_tuple(p.part.name, filename, p.part.content_type, headers, value));
  }
  return nb::make_tuple(out, 0, std::string());
}

}  // namespace

void register_multipart(nb::module_& m) {
  m.def("parse_multipart", &parse_multipart, nb::arg("body"), nb::arg("boundary"),
        nb::arg("max_fields"), nb::arg("max_files"), nb::arg("max_field_size"),
        nb::arg("max_file_size"), nb::arg("max_header_size"),
        "Parse a whole multipart/form-data body: (parts, error_status, error_reason).");
  m.def(
      "multipart_boundary",
      [](std::string_view content_type) { return mp::boundary_from_content_type(content_type); },
      nb::arg("content_type"),
      "The boundary of a multipart/form-data Content-Type, or None (missing or invalid).");
}

}  // namespace fa::py
