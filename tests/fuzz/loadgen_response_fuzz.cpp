// libFuzzer target: loadgen's response framer (benchmarks/loadgen/response_parser.h) on
// arbitrary bytes taken as a stream of pipelined responses. The first byte picks the piece
// size; the responses framed, and the error if any, must be the same whole and in pieces, and
// no response may claim more body bytes than the input holds. (The framer lives with the
// benchmark, not in the core library, so its one source file is compiled in here.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "../../benchmarks/loadgen/response_parser.cpp"

namespace {

using fa::loadgen::ResponseParser;

struct Framed {
  std::vector<std::pair<int, uint64_t>> responses;
  std::string error;
};

Framed frame(std::string_view in, size_t piece) {
  Framed f;
  ResponseParser p;
  for (size_t at = 0; at < in.size(); at += piece) {
    std::string_view chunk = in.substr(at, piece);
    while (!chunk.empty()) {
      size_t used = 0;
      auto r = p.feed(chunk, &used);
      if (used > chunk.size()) std::abort();
      chunk.remove_prefix(used);
      if (r == ResponseParser::Result::kNeedMore) {
        if (!chunk.empty()) std::abort();  // kNeedMore consumes everything
        break;
      }
      if (r == ResponseParser::Result::kError) {
        f.error = p.error();
        return f;
      }
      if (p.status() < 100 || p.status() > 999) std::abort();
      f.responses.emplace_back(p.status(), p.body_bytes());
      p.reset();
    }
  }
  if (p.finish()) f.responses.emplace_back(p.status(), p.body_bytes());
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t piece = 1 + data[0] % 64;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  Framed whole = frame(in, in.size() + 1);
  Framed split = frame(in, piece);
  if (whole.responses != split.responses || whole.error != split.error) std::abort();
  uint64_t body = 0;
  for (const auto& r : whole.responses) body += r.second;
  if (body > in.size()) std::abort();
  return 0;
}
