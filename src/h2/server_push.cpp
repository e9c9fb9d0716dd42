// H2Protocol::push: server push (RFC 9113 §8.4). The promised request is made here — GET, the
// associated stream's authority and scheme, a few of its fields — and then served like any
// client stream: same router, same handlers, same flow control.
#include <algorithm>
#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "h2/h2_protocol.h"
#include "h2/response_fields.h"
#include "http/connection.h"
#include "http/server.h"

namespace fa::h2 {

namespace {

// Request fields the promised request takes from the one that caused it, so content
// negotiation (compression, language) answers as the client would have asked. The list is
// Starlette's SERVER_PUSH_HEADERS_TO_COPY; cookies and credentials stay out (§8.4.1: a
// promised request is one the server makes up, cacheable and safe).
constexpr std::array<std::string_view, 5> kCopied = {"accept", "accept-encoding", "accept-language",
                                                     "cache-control", "user-agent"};

bool copied(std::string_view name) {
  for (std::string_view c : kCopied)
    if (name == c) return true;  // HTTP/2 field names arrive lower-cased (§8.2.1)
  return false;
}

}  // namespace

bool H2Protocol::push(http::Connection&, uint64_t serial, std::string_view path) {
  Stream* s = open_stream(serial);
  // §8.4: promises ride a client-initiated stream whose response is still open; none while
  // we shut down (the GOAWAY has named the last stream).
  if (!s || s->pushed || draining_) return false;
  // §6.5.2: SETTINGS_ENABLE_PUSH 0 forbids PUSH_PROMISE (a connection error if we sent one).
  if (nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_ENABLE_PUSH) == 0)
    return false;
  // §5.1.2: pushed streams count against the peer's concurrent-stream limit; ours bounds
  // them too, so a handler that pushes in a loop cannot queue without end.
  uint32_t cap = std::min(
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
      limits_.max_concurrent_streams);
  uint32_t in_flight = 0;
  for (const auto& [id, st] : streams_) in_flight += st->pushed ? 1 : 0;
  if (in_flight >= cap) return false;

  auto p = std::make_unique<Stream>();
  p->pushed = true;
  p->method = "GET";
  p->path = path;
  p->scheme = !s->scheme.empty() ? s->scheme : (conn_.secure() ? "https" : "http");
  p->authority = s->authority;
  for (const auto& [name, value] : s->fields) {
    if (name == "host" && p->authority.empty()) p->authority = value;
    if (copied(name)) p->fields.emplace_back(name, value);
  }
  std::vector<nghttp2_nv> nva;
  nva.reserve(4 + p->fields.size());
  nva.push_back(make_nv(":method", p->method));
  nva.push_back(make_nv(":scheme", p->scheme));
  nva.push_back(make_nv(":authority", p->authority));
  nva.push_back(make_nv(":path", p->path));
  for (const auto& [name, value] : p->fields) nva.push_back(make_nv(name, value));
  int32_t id = nghttp2_submit_push_promise(session_, NGHTTP2_FLAG_NONE, s->id, nva.data(),
                                           nva.size(), nullptr);
  if (id < 0) return false;  // e.g. NGHTTP2_ERR_PUSH_DISABLED, stream ids exhausted
  p->id = id;
  streams_[id] = std::move(p);
  conn_.clear_deadline();
  // The handler that pushed is still running (maybe a Python one): the promised response is
  // made on the loop's next turn, never inside it.
  dispatch_later(id);
  if (!in_recv_) pump();
  return true;
}

void H2Protocol::dispatch_later(int32_t stream_id) {
  server_.loop().defer([w = conn_.weak_from_this(), this, stream_id] {
    auto c = w.lock();
    if (!c || c->closed() || c->protocol() != this || closed_) return;
    auto it = streams_.find(stream_id);  // gone when the client refused it (RST_STREAM)
    if (it == streams_.end() || it->second->dispatched) return;
    dispatch(*it->second);
    pump();
  });
}

}  // namespace fa::h2
