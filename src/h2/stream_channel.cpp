// StreamChannel implementation: the ByteChannel side of an RFC 8441 stream, on H2Protocol's
// buffers and pump.
#include "h2/stream_channel.h"

#include <cstring>

#include "h2/h2_protocol.h"
#include "http/connection.h"
#include "http/server.h"

namespace fa::h2 {

StreamChannel::~StreamChannel() = default;

EventLoop& StreamChannel::loop() {
  return h2_.server_.loop();
}

int StreamChannel::write(std::string_view a, std::string_view b, bool flush) {
  if (closing_ || closed_) return -1;
  Stream* s = h2_.find(static_cast<uint64_t>(id_));
  if (!s || s->reset || h2_.closed_) return -1;
  size_t before = s->pending();
  s->out.append(a);
  s->out.append(b);
  h2_.note_queued(*s, before);
  if (s->data_deferred) {
    s->data_deferred = false;
    nghttp2_session_resume_data(h2_.session_, id_);
  }
  if (flush && !h2_.in_recv_) h2_.pump();
  if (closed_) return -1;
  return over_high_water() ? 1 : 0;
}

void StreamChannel::flush() {
  if (!closed_ && !h2_.in_recv_) h2_.pump();
}

bool StreamChannel::over_high_water() const {
  return h2_.over_high_water(h2_.conn_, static_cast<uint64_t>(id_));
}

size_t StreamChannel::buffered() const {
  Stream* s = h2_.find(static_cast<uint64_t>(id_));
  return s ? s->pending() : 0;
}

void StreamChannel::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  // What arrived while paused (and the peer's END_STREAM) comes on the loop's next turn, as
  // a connection's kernel buffer would be read then.
  if (in_.empty() && !(peer_end_ && !peer_end_told_)) return;
  loop().defer([w = weak_from_this()] {
    if (auto self = w.lock()) self->deliver();
  });
}

void StreamChannel::on_bytes(std::string_view data, bool counted) {
  if (data.empty()) return;  // nothing to copy (and memcpy must not see a null source)
  std::memcpy(in_.prepare(data.size()), data.data(), data.size());
  in_.commit(data.size());
  if (counted) unconsumed_ += data.size();
}

void StreamChannel::deliver() {
  if (closed_ || paused_ || !sink_) return;
  auto keep = shared_from_this();  // the protocol may close the stream
  if (unconsumed_ > 0 && !h2_.closed_) {
    // Flow control (RFC 9113 §5.2): the stream's window reopens for bytes handed to the
    // protocol; a paused reader leaves them unconsumed and the peer's window closes.
    nghttp2_session_consume_stream(h2_.session_, id_, unconsumed_);
    unconsumed_ = 0;
  }
  if (!in_.empty()) sink_->on_data(h2_.conn_);
  if (peer_end_ && !peer_end_told_ && !closed_ && !paused_) {
    peer_end_told_ = true;
    sink_->on_peer_closed(h2_.conn_);
  }
}

void StreamChannel::on_drain() {
  if (!closed_ && sink_) sink_->on_drain(h2_.conn_);
}

void StreamChannel::on_shutdown() {
  if (!closed_ && sink_) sink_->on_shutdown(h2_.conn_);
}

void StreamChannel::set_deadline(Duration from_now) {
  clear_deadline();
  timer_ = loop().call_later(from_now, [w = weak_from_this()] {
    auto self = w.lock();
    if (!self || self->closed_) return;
    self->timer_ = 0;
    if (self->sink_) self->sink_->on_timeout(self->h2_.conn_);
  });
}

void StreamChannel::clear_deadline() {
  if (timer_) loop().cancel(timer_);
  timer_ = 0;
}

void StreamChannel::close_after_flush() {
  if (closing_ || closed_) return;
  closing_ = true;
  Stream* s = h2_.find(static_cast<uint64_t>(id_));
  if (!s || s->reset) return;
  s->eof = true;  // END_STREAM once the buffered bytes went out
  if (s->data_deferred) {
    s->data_deferred = false;
    nghttp2_session_resume_data(h2_.session_, id_);
  }
  // A peer that never ends its side is reset after the linger time, as a connection that
  // never closes after ours is (Connection::close_after_flush).
  linger_ = loop().call_later(h2_.server_.config().linger_timeout, [w = weak_from_this()] {
    auto self = w.lock();
    if (!self || self->closed_) return;
    self->linger_ = 0;
    self->closing_ = false;
    self->close_now();
  });
  if (!h2_.in_recv_) h2_.pump();
}

void StreamChannel::close_now() {
  if (closed_) return;
  closing_ = true;
  Stream* s = h2_.find(static_cast<uint64_t>(id_));
  if (!s || s->reset || h2_.closed_) return;
  nghttp2_submit_rst_stream(h2_.session_, NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
  std::string().swap(s->out);
  s->out_off = 0;
  if (!h2_.in_recv_) h2_.pump();  // the reset goes out; on_stream_close calls gone()
}

void StreamChannel::gone() {
  if (closed_) return;
  closed_ = true;
  clear_deadline();
  if (linger_) loop().cancel(linger_);
  linger_ = 0;
  auto keep = shared_from_this();
  if (sink_) sink_->on_close(h2_.conn_);
}

}  // namespace fa::h2
