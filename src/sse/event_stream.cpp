// EventStream: SSE responses with keep-alive comments on the engine's timers.
#include "sse/event_stream.h"

#include <string>

namespace fa::sse {

// WHATWG HTML §9.2.5: an event stream is always UTF-8; the charset is named as Starlette
// and FastAPI name it on text/* types (clients that check the exact header see the same).
constexpr std::string_view kContentType = "text/event-stream; charset=utf-8";

std::shared_ptr<EventStream> EventStream::open(http::ResponseHandle handle, EventLoop& loop,
                                               const StreamOptions& options) {
  std::string headers(kStreamHeaders);
  headers.append(options.extra_headers);
  if (!handle.start(http::ResponseHead{options.status, kContentType, headers}))
    return nullptr;
  std::shared_ptr<EventStream> s(new EventStream(std::move(handle), loop, options.ping_interval));
  s->arm_ping();
  return s;
}

EventStream::~EventStream() {
  close();  // RAII: a stream dropped without close() still ends its response
}

void EventStream::arm_ping() {
  if (ping_.count() <= 0 || closed_) return;
  timer_ = loop_.call_later(ping_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_ping();
  });
}

void EventStream::on_ping() {
  timer_ = 0;
  if (closed_ || !handle_.alive()) return;  // the exchange ended: no more timers
  flush();
  // Only a stream that was quiet for a whole interval needs the comment.
  if (!wrote_since_ping_) {
    handle_.write(kPing);
    ++pings_;
  }
  wrote_since_ping_ = false;
  arm_ping();
}

bool EventStream::send(const Event& ev) {
  buf_.clear();
  last_error_ = append_event(buf_, ev);
  if (last_error_ != FrameError::kNone) return false;
  return send_framed(buf_);
}

bool EventStream::send_framed(std::string_view bytes) {
  if (closed_) return false;
  wrote_since_ping_ = true;
  pending_.append(bytes);
  if (pending_.size() >= kCoalesceBytes) return flush();
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    loop_.defer([weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->flush_scheduled_ = false;
        self->flush();
      }
    });
  }
  return writable();
}

bool EventStream::flush() {
  if (pending_.empty()) return writable();
  bool ok = handle_.write(pending_);
  pending_.clear();
  return ok;
}

void EventStream::close() {
  if (closed_) return;
  closed_ = true;
  if (timer_ != 0) {
    loop_.cancel(timer_);
    timer_ = 0;
  }
  if (handle_.alive()) {
    flush();
    if (handle_.client_gone()) {
      handle_.abort();  // a half-closed peer: an open exchange would hold the socket
    } else {
      handle_.end();
    }
  }
}

}  // namespace fa::sse
