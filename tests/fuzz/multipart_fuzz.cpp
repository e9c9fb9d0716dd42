// libFuzzer target: multipart::Parser on arbitrary bytes, fed whole and split in two, checking
// that parts and content agree between the two, that limits hold and errors carry a status.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "multipart/header_params.h"
#include "multipart/parser.h"

namespace {

using fa::multipart::Limits;
using fa::multipart::Parser;
using fa::multipart::Part;
using fa::multipart::PartSink;
using fa::multipart::Status;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "multipart_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

struct Sink : PartSink {
  std::vector<std::string> names;
  std::vector<std::string> data;
  bool open = false;
  void on_part_begin(const Part& p) override {
    check(!open, "part begins while one is open");
    open = true;
    names.push_back(p.name + (p.filename ? "|" + *p.filename : ""));
    data.emplace_back();
  }
  void on_part_data(std::string_view b) override {
    check(open, "data outside a part");
    check(!b.empty(), "empty data slice");
    data.back().append(b);
  }
  void on_part_end() override {
    check(open, "end without begin");
    open = false;
  }
};

struct Result {
  Status status = Status::kNeedMore;
  int error = 0;
  Sink sink;
};

// Feeds each piece from an exact-size heap copy, so an over-read trips ASan.
void run(std::string_view in, size_t split, const Limits& lim, Result& r) {
  Parser p("b0undary", lim);
  const std::string_view pieces[2] = {in.substr(0, split), in.substr(split)};
  for (std::string_view piece : pieces) {
    if (r.status != Status::kNeedMore) break;
    auto buf = std::make_unique<char[]>(piece.size() ? piece.size() : 1);
    if (!piece.empty()) std::memcpy(buf.get(), piece.data(), piece.size());
    r.status = p.feed(std::string_view(buf.get(), piece.size()), r.sink);
  }
  if (r.status == Status::kNeedMore) r.status = p.finish();
  if (r.status == Status::kError) {
    r.error = p.error().status;
    check(r.error == 400 || r.error == 413, "error status");
    check(!p.error().reason.empty(), "error reason");
  }
  check(p.fields() <= lim.max_fields && p.files() <= lim.max_files, "part count limits");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Limits lim;
  if (data[0] & 1) {
    lim.max_fields = 3;
    lim.max_files = 2;
    lim.max_header_bytes = 128;
    lim.max_field_bytes = 16;
    lim.max_file_bytes = 64;
  }
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)fa::multipart::parse_header_value(in);
  (void)fa::multipart::boundary_from_content_type(in);
  Result whole, parts;
  run(in, in.size(), lim, whole);
  run(in, in.empty() ? 0 : (data[0] >> 1) % (in.size() + 1), lim, parts);
  check(whole.status == parts.status, "split agrees on outcome");
  check(whole.error == parts.error, "split agrees on status");
  if (whole.status == Status::kDone) {
    check(whole.sink.names == parts.sink.names, "split agrees on parts");
    check(whole.sink.data == parts.sink.data, "split agrees on content");
    for (size_t i = 0; i < whole.sink.data.size(); ++i) {
      const bool file = whole.sink.names[i].find('|') != std::string::npos;
      check(whole.sink.data[i].size() <= (file ? lim.max_file_bytes : lim.max_field_bytes),
            "size limits");
    }
  }
  return 0;
}
