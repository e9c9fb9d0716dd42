// ByteChannel: a bidirectional byte stream a protocol above HTTP runs on — the whole
// connection after a HTTP/1.1 upgrade (ws/connection_channel.h), or one HTTP/2 stream opened by
// an extended CONNECT (RFC 8441; h2/stream_channel.h). The events come to an http::Protocol
// (the same one a connection runs after a 101); its Connection& argument is the carrying
// connection and names no state of the channel.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "core/byte_buffer.h"
#include "core/event_loop.h"

namespace fa::http {

class ByteChannel {
 public:
  virtual ~ByteChannel() = default;
  virtual EventLoop& loop() = 0;
  // Bytes received and not yet consumed by the protocol.
  virtual ByteBuffer& input() = 0;
  // Queues a then b (one message: a head and its payload). `flush`: write now rather than when
  // the current input batch has been processed. Returns -1 when the channel is closing or
  // closed (nothing queued), 1 when queued output is past the high-water mark, else 0.
  virtual int write(std::string_view a, std::string_view b, bool flush) = 0;
  virtual void flush() = 0;
  virtual bool over_high_water() const = 0;
  virtual size_t buffered() const = 0;
  virtual bool closing() const = 0;  // close_after_flush/close_now called, or closed
  virtual bool closed() const = 0;
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  // One deadline: Protocol::on_timeout once it passes.
  virtual void set_deadline(Duration from_now) = 0;
  virtual void clear_deadline() = 0;
  virtual void close_after_flush() = 0;
  virtual void close_now() = 0;
  // Expires when the channel (and the protocol it drives) is gone: deferred work checks it.
  virtual std::weak_ptr<void> life() = 0;
};

}  // namespace fa::http
