// StreamChannel: one HTTP/2 stream opened by an extended CONNECT (RFC 8441 §4) as a byte
// channel — what a WebSocket runs on over h2 instead of the whole connection. Input is the
// stream's DATA; output goes out as DATA through the stream's buffer and H2Protocol::pump(), so
// it obeys the stream's and the connection's flow-control windows (RFC 9113 §5.2). Closing
// after flush ends the stream (END_STREAM, RFC 8441 §4: the TCP FIN's counterpart); closing
// now resets it (RST_STREAM CANCEL, the counterpart of a TCP RST).
#pragma once

#include <cstdint>
#include <memory>

#include "http/byte_channel.h"
#include "http/protocol.h"

namespace fa::h2 {

class H2Protocol;

class StreamChannel final : public http::ByteChannel,
                            public std::enable_shared_from_this<StreamChannel> {
 public:
  StreamChannel(H2Protocol& h2, int32_t stream_id) : h2_(h2), id_(stream_id) {}
  ~StreamChannel() override;

  // ByteChannel
  EventLoop& loop() override;
  ByteBuffer& input() override { return in_; }
  int write(std::string_view a, std::string_view b, bool flush) override;
  void flush() override;
  bool over_high_water() const override;
  size_t buffered() const override;
  bool closing() const override { return closing_ || closed_; }
  bool closed() const override { return closed_; }
  void pause_reading() override { paused_ = true; }
  void resume_reading() override;
  void set_deadline(Duration from_now) override;
  void clear_deadline() override;
  void close_after_flush() override;
  void close_now() override;
  std::weak_ptr<void> life() override { return weak_from_this(); }

  // Called by H2Protocol.
  void bind(std::unique_ptr<http::Protocol> sink) { sink_ = std::move(sink); }
  // A DATA chunk (delivered later by deliver()); `counted`: against the stream's window.
  void on_bytes(std::string_view data, bool counted = true);
  void on_peer_end() { peer_end_ = true; }
  // Hands received bytes (then the peer's END_STREAM) to the protocol, unless paused.
  void deliver();
  void on_drain();
  void on_shutdown();
  void gone();  // the stream closed or was reset, or the connection went

 private:
  H2Protocol& h2_;
  int32_t id_;
  ByteBuffer in_;
  size_t unconsumed_ = 0;  // received, not yet given back to the stream's window
  std::unique_ptr<http::Protocol> sink_;
  TimerId timer_ = 0;
  TimerId linger_ = 0;
  bool paused_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool peer_end_ = false;
  bool peer_end_told_ = false;
};

}  // namespace fa::h2
