// Socket: one WebSocket after the handshake. Reading (MessageReader events), the close
// handshake (RFC 6455 §7), keep-alive pings, backpressure and sending (RFC 7692 compression).
#include <cstring>

#include "core/log.h"
#include "http/connection.h"
#include "ws/connection_channel.h"
#include "ws/deflater.h"
#include "ws/message_reader.h"
#include "ws/ws_server.h"

namespace fa::ws {

namespace {
// Every message is compressed once permessage-deflate is negotiated. RFC 7692 §6.1 would allow
// small ones uncompressed, but Autobahn's echo cases (12.x.1, via kosoku) then fail to hash
// the echoed message, so we do not rely on clients handling that.
constexpr size_t kMaxCloseReason = 123;  // §5.5: 125-byte control payload minus the code

void append_u16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xFF));
}

// Cuts `reason` to `max` bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view reason, size_t max) {
  if (reason.size() <= max) return reason;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
  return reason.substr(0, n);
}
}  // namespace

Socket::Socket(http::Connection& conn, Callbacks cb, const Limits& limits,
               const DeflateParams* deflate, std::string subprotocol, std::string extensions)
    : Socket(std::make_unique<ConnectionChannel>(conn), nullptr, conn.peer().host, conn.peer().port,
             std::move(cb), limits, deflate, std::move(subprotocol), std::move(extensions)) {}

Socket::Socket(http::ByteChannel& channel, std::string peer_host, uint16_t peer_port, Callbacks cb,
               const Limits& limits, const DeflateParams* deflate, std::string subprotocol,
               std::string extensions)
    : Socket(nullptr, &channel, std::move(peer_host), peer_port, std::move(cb), limits, deflate,
             std::move(subprotocol), std::move(extensions)) {}

Socket::Socket(std::unique_ptr<ConnectionChannel> h1, http::ByteChannel* channel,
               std::string peer_host, uint16_t peer_port, Callbacks cb, const Limits& limits,
               const DeflateParams* deflate, std::string subprotocol, std::string extensions)
    : conn_(h1 ? h1.get() : channel),
      h1_(std::move(h1)),
      loop_(conn_->loop()),
      cb_(std::move(cb)),
      limits_(limits),
      subprotocol_(std::move(subprotocol)),
      extensions_(std::move(extensions)),
      peer_host_(std::move(peer_host)),
      peer_port_(peer_port) {
  if (deflate) {
    inflater_ = std::make_unique<Inflater>(*deflate);
    deflater_ = std::make_unique<Deflater>(*deflate, limits.deflate_level);
  }
  reader_ = std::make_unique<MessageReader>(
      ReaderConfig{limits.max_frame_bytes, limits.max_message_bytes, true}, inflater_.get());
}

Socket::~Socket() = default;

bool Socket::open() const {
  return conn_ && state_ == State::kOpen;
}
size_t Socket::buffered() const {
  return conn_ ? conn_->buffered() : 0;
}

bool Socket::send_text(std::string_view utf8) {
  return send_data(Opcode::kText, utf8);
}
bool Socket::send_binary(std::string_view bytes) {
  return send_data(Opcode::kBinary, bytes);
}

bool Socket::send_data(Opcode op, std::string_view payload) {
  if (!conn_ || state_ != State::kOpen) return false;
  char head[10];
  if (deflater_ && deflater_->compress(payload, scratch_)) {
    return after_send(
        write_out(std::string_view(head, write_frame_head(head, op, scratch_.size(), true, true)),
                  scratch_, !in_data_));
  }
  return after_send(write_out(std::string_view(head, write_frame_head(head, op, payload.size())),
                              payload, !in_data_));
}

bool Socket::send_frame(const EncodedFrame& frame) {
  if (!conn_ || state_ != State::kOpen) return false;
  return after_send(write_out(frame.bytes, {}, !in_data_));
}

bool Socket::ping(std::string_view payload) {
  if (!conn_ || state_ != State::kOpen || payload.size() > kMaxControlPayload) return false;
  char head[10];
  return after_send(
      write_out(std::string_view(head, write_frame_head(head, Opcode::kPing, payload.size())),
                payload, !in_data_));
}

void Socket::send_control(Opcode op, std::string_view payload) {
  char head[10];
  write_out(std::string_view(head, write_frame_head(head, op, payload.size())), payload, false);
}

int Socket::write_out(std::string_view a, std::string_view b, bool flush) {
  return h1_ ? h1_->write(a, b, flush) : conn_->write(a, b, flush);  // h1_: a direct call
}

bool Socket::after_send(int written) {
  // written: ByteChannel::write's answer (-1 closing/closed, 1 past the high-water mark).
  if (written < 0 || !conn_) return false;
  if (written == 0) return true;
  want_drain_ = true;
  return false;
}

void Socket::close(uint16_t code, std::string_view reason) {
  if (!conn_ || state_ != State::kOpen) return;
  if (!valid_wire_close_code(code)) code = close_code::kNormal;
  std::string payload;
  append_u16(payload, code);
  payload.append(cut_utf8(reason, kMaxCloseReason));
  send_control(Opcode::kClose, payload);
  state_ = State::kClosing;  // §7.1.2: wait for the peer's close frame
  conn_->set_deadline(limits_.close_timeout);
  if (app_paused_) resume_reading();  // the peer's close frame must be read; no more messages
  if (conn_ && !in_data_) conn_->flush();
}

void Socket::fail(uint16_t code, std::string_view reason) {
  // §7.1.7 "Fail the WebSocket Connection": send a close frame (unless one was sent), close.
  if (!conn_ || state_ == State::kClosed) return;
  if (state_ == State::kOpen) {
    std::string payload;
    append_u16(payload, code);
    send_control(Opcode::kClose, payload);
  }
  state_ = State::kClosed;
  report_close(code, reason);
  if (conn_) conn_->close_after_flush();
}

void Socket::on_close_frame(uint16_t code, std::string_view reason) {
  if (state_ == State::kOpen) {
    // §5.5.1: answer with a close frame, echoing the code (none if the peer sent none).
    std::string payload;
    if (code != close_code::kNoStatus) append_u16(payload, code);
    send_control(Opcode::kClose, payload);
  }
  state_ = State::kClosed;
  report_close(code, reason);
  // §7.1.1: the server closes the TCP connection first, once the close frame is written.
  if (conn_) conn_->close_after_flush();
}

void Socket::report_close(uint16_t code, std::string_view reason) {
  if (close_reported_) return;
  close_reported_ = true;
  if (cb_.on_close) cb_.on_close(*this, code, reason);
}

void Socket::pause_reading() {
  if (app_paused_ || !conn_ || state_ != State::kOpen) return;
  app_paused_ = true;
  sync_reading();  // on_data stops before the next event
}

void Socket::resume_reading() {
  if (!app_paused_) return;
  app_paused_ = false;
  sync_reading();
  if (!conn_ || conn_->input().empty() || held_scheduled_) return;
  // Input read before the pause is delivered from the loop, not from inside this call: the
  // caller may be iterating its own queue. The kernel wakes us for anything still unread.
  held_scheduled_ = true;
  loop_.defer([weak = conn_->life(), this] {
    auto conn = weak.lock();  // alive: its SocketProtocol still holds this socket
    if (!conn) return;
    held_scheduled_ = false;
    deliver_held();
  });
}

void Socket::deliver_held() {
  if (conn_ && !conn_->closed() && !in_data_ && !app_paused_ && !out_paused_ &&
      !conn_->input().empty())
    on_data();
}

void Socket::sync_reading() {
  if (!conn_) return;
  if (app_paused_ || out_paused_) {
    conn_->pause_reading();
  } else {
    conn_->resume_reading();
  }
}

void Socket::on_data() {
  if (!conn_) return;
  // HTTP/1.1 through the final type: its calls are direct (inlined), as before the seam.
  if (h1_) {
    read_input(*h1_);
  } else {
    read_input(*conn_);
  }
}

template <class Channel>
void Socket::read_input(Channel& conn) {
  auto keep = conn.life().lock();  // a callback may close the connection
  ByteBuffer& in = conn.input();
  last_rx_ = loop_.now();
  in_data_ = true;
  while (conn_ && !conn.closing() && !in.empty()) {
    if (app_paused_) break;        // held in the input buffer until resume_reading()
    if (conn.over_high_water()) {  // the peer is not reading: stop reading it too
      out_paused_ = true;
      conn.pause_reading();
      break;
    }
    size_t consumed = 0;
    ReadEvent ev = reader_->next(in.data(), in.size(), consumed);
    using Kind = ReadEvent::Kind;
    if (ev.kind == Kind::kNeedMore) {
      in.consume(consumed);
      break;
    }
    switch (ev.kind) {
      case Kind::kMessage:
        if (state_ == State::kOpen && cb_.on_message) {
          message_ascii_ = ev.ascii;
          cb_.on_message(*this, ev.data, ev.binary);
        }
        break;
      case Kind::kPing:
        if (state_ == State::kOpen) send_control(Opcode::kPong, ev.data);  // §5.5.3
        break;
      case Kind::kPong:
        if (awaiting_pong_ && state_ == State::kOpen) {
          awaiting_pong_ = false;
          arm_ping();
        }
        break;
      case Kind::kClose:
        on_close_frame(ev.code, ev.reason);
        break;
      case Kind::kError:
        fail(ev.code, ev.reason);
        break;
      case Kind::kNeedMore:
        break;
    }
    if (conn.closed() || conn.closing()) break;  // closing drops the input
    in.consume(consumed);
  }
  in_data_ = false;
  if (!conn.closed()) conn.flush();
}

void Socket::on_drain() {
  if (out_paused_ && conn_) {
    out_paused_ = false;
    sync_reading();
    deliver_held();  // input held back while paused
  }
  if (want_drain_ && conn_ && state_ == State::kOpen) {
    want_drain_ = false;
    if (cb_.on_drain) cb_.on_drain(*this);
  }
}

void Socket::on_peer_closed() {
  // The peer half-closed while we were not reading (EPOLLRDHUP): what it sent before its FIN
  // is still in the kernel; once reading resumes we read it and then meet the EOF again.
  if (app_paused_) return;
  deliver_held();           // messages (perhaps a close frame) read before the EOF come first
  if (app_paused_) return;  // paused again while they were delivered: the EOF waits too
  if (conn_ && !conn_->closing()) conn_->close_now();  // EOF without a close frame: 1006
}

void Socket::arm_ping() {
  if (!conn_) return;
  if (limits_.ping_interval > Duration::zero()) {
    conn_->set_deadline(limits_.ping_interval);
  } else {
    conn_->clear_deadline();
  }
}

void Socket::on_timeout() {
  if (!conn_) return;
  if (state_ != State::kOpen) {  // our close frame went unanswered (§7.1.1: then just close)
    conn_->close_now();
    return;
  }
  // Keep-alive pings only probe a quiet connection: bytes from the peer since the last ping
  // (or pong) prove it alive, so a busy connection is never pinged or dropped.
  TimePoint now = loop_.now();
  if (app_paused_ || out_paused_) {
    // We stopped reading, so a pong could not be seen: the connection is not quiet on the
    // peer's side. (A peer that stops reading our output is dropped by the send timeout.)
    awaiting_pong_ = false;
    arm_ping();
    return;
  }
  if (last_rx_ > ping_sent_) {
    awaiting_pong_ = false;
    Duration quiet = now - last_rx_;
    if (quiet < limits_.ping_interval) {
      conn_->set_deadline(limits_.ping_interval - quiet);
      return;
    }
  } else if (awaiting_pong_) {
    FA_LOG(LogLevel::kInfo, "websocket peer %s:%u sent no pong: closing", peer_host_.c_str(),
           peer_port_);
    conn_->close_now();
    return;
  }
  send_control(Opcode::kPing, {});
  ping_sent_ = now;
  if (limits_.pong_timeout > Duration::zero()) {
    awaiting_pong_ = true;
    conn_->set_deadline(limits_.pong_timeout);
  } else {
    arm_ping();
  }
  conn_->flush();
}

void Socket::on_shutdown() {
  close(close_code::kGoingAway, "server shutting down");
}

void Socket::on_connection_closed() {
  conn_ = nullptr;
  if (h1_) h1_->gone();
  state_ = State::kClosed;
  report_close(close_code::kAbnormal, {});
  // Callbacks often hold the SocketPtr (a cycle); drop them after the current callback ends.
  loop_.defer([cb = std::move(cb_)] {});
  cb_ = Callbacks{};
}

}  // namespace fa::ws
