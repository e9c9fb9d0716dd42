// EventStream: a Server-Sent Events response on the HTTP engine — the head
// (text/event-stream, no caching, no proxy buffering), events framed by append_event, and a
// keep-alive comment whenever the stream was quiet for a whole ping interval (engine timer).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/event_loop.h"
#include "http/response.h"
#include "sse/event.h"

namespace fa::sse {

struct StreamOptions {
  Duration ping_interval = std::chrono::seconds(15);  // 0 = no keep-alive comments
  std::string_view extra_headers;                     // "Name: value\r\n" lines to add
  int status = 200;
};

// The head lines every event stream carries (besides Content-Type: text/event-stream).
inline constexpr std::string_view kStreamHeaders =
    "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";

class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  // Starts the response on `handle` and arms the ping timer on `loop`. Returns nullptr if the
  // exchange is no longer open (client gone, already answered).
  static std::shared_ptr<EventStream> open(http::ResponseHandle handle, EventLoop& loop,
                                           const StreamOptions& options = {});
  // The C++ handler form: `auto s = EventStream::open(res, loop)` keeps the exchange open.
  static std::shared_ptr<EventStream> open(http::Response& res, EventLoop& loop,
                                           const StreamOptions& options = {}) {
    return open(res.detach(), loop, options);
  }
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Sends one event. Returns false when it could not be framed (see last_error()), when the
  // client is gone, or when output is over the high-water mark (sent; wait for on_drain).
  // Events sent in one loop turn leave together (one write, one codec flush) at its end, or
  // as soon as kCoalesceBytes are waiting: never later than the current loop iteration.
  bool send(const Event& ev);
  // Sends pre-framed bytes (already ending in a blank line); same return as send().
  bool send_framed(std::string_view bytes);
  bool comment(std::string_view text) {
    Event ev;
    ev.comment = text;
    return send(ev);
  }
  // Ends the response (last chunk); cancels the ping timer. Idempotent; the destructor calls it.
  void close();
  // fn() runs once when output drains below the low-water mark or the connection closes.
  bool on_drain(std::function<void()> fn) const { return handle_.on_drain(std::move(fn)); }
  // fn() runs once when the exchange ends: close(), or the client went away.
  bool on_done(std::function<void()> fn) const { return handle_.on_done(std::move(fn)); }
  bool alive() const { return handle_.alive() && !handle_.client_gone(); }
  FrameError last_error() const { return last_error_; }
  uint64_t pings_sent() const { return pings_; }

 private:
  EventStream(http::ResponseHandle handle, EventLoop& loop, Duration ping)
      : handle_(std::move(handle)), loop_(loop), ping_(ping) {}
  void arm_ping();
  void on_ping();
  bool flush();  // writes what is pending; same return as send()
  bool writable() const {
    return handle_.alive() && !handle_.client_gone() && !handle_.over_high_water();
  }

  // Bytes of events kept for one write before flushing early (bounds memory per stream even
  // when a producer never yields to the loop).
  static constexpr size_t kCoalesceBytes = 16 * 1024;

  http::ResponseHandle handle_;
  EventLoop& loop_;
  Duration ping_;
  TimerId timer_ = 0;
  bool wrote_since_ping_ = false;
  bool closed_ = false;
  bool flush_scheduled_ = false;
  std::string pending_;  // framed events not yet written
  FrameError last_error_ = FrameError::kNone;
  uint64_t pings_ = 0;
  std::string buf_;  // one framed event (capacity kept)
};

}  // namespace fa::sse
