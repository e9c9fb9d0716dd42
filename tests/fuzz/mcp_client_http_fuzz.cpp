// libFuzzer target: the MCP client's HTTP/1.1 response parser and SSE parser
// (src/mcp/client/http_response.h) on arbitrary bytes. The first byte picks how the input is
// split into feeds; the response must parse the same whole and split, body bytes must never
// exceed the input, and the body is fed to the SSE parser as a Streamable HTTP client would.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mcp/client/http_response.h"

namespace {

using fa::mcp::client::HttpResponseParser;

struct Sink : fa::mcp::client::ResponseSink {
  std::string body;
  int heads = 0, completes = 0;
  void on_head(const fa::mcp::client::ResponseHead& h) override {
    ++heads;
    if (h.status < 100 || h.status > 999) std::abort();
  }
  void on_body(std::string_view b) override { body += b; }
  void on_complete() override { ++completes; }
};

struct Events : fa::mcp::client::SseSink {
  size_t n = 0, bytes = 0;
  void on_event(const fa::mcp::client::SseEvent& e) override {
    ++n;
    bytes += e.data.size();
    if (e.type.empty()) std::abort();
  }
};

size_t run(std::string_view in, size_t step, Sink& sink, HttpResponseParser& p) {
  size_t used = 0;
  for (size_t i = 0; i < in.size() && !p.done() && !p.failed(); i += step)
    used += p.feed(in.substr(i, step), sink);
  p.finish(sink);
  return used;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 17;
  const bool head_request = data[0] & 0x80;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  Sink whole_sink, split_sink;
  HttpResponseParser whole(head_request), split(head_request);
  size_t used = whole.feed(in, whole_sink);
  whole.finish(whole_sink);
  size_t split_used = run(in, step, split_sink, split);

  if (whole.done() != split.done() || whole.failed() != split.failed()) std::abort();
  if (whole_sink.body != split_sink.body) std::abort();
  if (whole_sink.completes > 1 || whole_sink.heads > 1) std::abort();
  if (whole.done() && (used != split_used || used > in.size())) std::abort();
  if (whole_sink.body.size() > in.size()) std::abort();
  if (whole.done() != (whole_sink.completes == 1)) std::abort();

  // The body as an event stream, whole and in pieces: the same events.
  Events a, b;
  fa::mcp::client::SseParser sa, sb;
  sa.feed(whole_sink.body, a);
  std::string_view body = whole_sink.body;
  for (size_t i = 0; i < body.size(); i += step) sb.feed(body.substr(i, step), b);
  if (a.n != b.n || a.bytes != b.bytes || sa.last_event_id() != sb.last_event_id()) std::abort();
  return 0;
}
