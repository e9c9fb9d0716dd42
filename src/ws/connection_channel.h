// ConnectionChannel: the ByteChannel of a WebSocket after a HTTP/1.1 101 — the connection
// itself, every call forwarded as ws::Socket made it before the channel seam existed.
#pragma once

#include "http/byte_channel.h"
#include "http/connection.h"

namespace fa::ws {

class ConnectionChannel final : public http::ByteChannel {
 public:
  explicit ConnectionChannel(http::Connection& conn) : conn_(&conn) {}

  // The connection closed (SocketProtocol::on_close): nothing may touch it any more.
  void gone() { conn_ = nullptr; }

  EventLoop& loop() override { return conn_->loop(); }
  ByteBuffer& input() override { return conn_->input(); }
  int write(std::string_view a, std::string_view b, bool flush) override {
    if (!conn_ || conn_->closing()) return -1;
    WriteQueue& out = conn_->output();
    out.append(a);
    if (!b.empty()) out.append(b);
    if (flush) conn_->flush();  // inside on_data the connection flushes once at the end
    if (!conn_ || conn_->closed()) return -1;
    return conn_->over_high_water() ? 1 : 0;
  }
  // After gone() (a callback closed the connection while Socket::on_data runs) the channel
  // reads as closed and does nothing.
  void flush() override {
    if (conn_) conn_->flush();
  }
  bool over_high_water() const override { return conn_ && conn_->over_high_water(); }
  size_t buffered() const override { return conn_ ? conn_->output().size() : 0; }
  bool closing() const override { return !conn_ || conn_->closing(); }
  bool closed() const override { return !conn_ || conn_->closed(); }
  void pause_reading() override {
    if (conn_) conn_->pause_reading();
  }
  void resume_reading() override {
    if (conn_) conn_->resume_reading();
  }
  void set_deadline(Duration d) override {
    if (conn_) conn_->set_deadline(d);
  }
  void clear_deadline() override {
    if (conn_) conn_->clear_deadline();
  }
  void close_after_flush() override {
    if (conn_) conn_->close_after_flush();
  }
  void close_now() override {
    if (conn_) conn_->close_now();
  }
  std::weak_ptr<void> life() override {
    return conn_ ? std::weak_ptr<void>(conn_->weak_from_this()) : std::weak_ptr<void>();
  }

 private:
  http::Connection* conn_;
};

}  // namespace fa::ws
