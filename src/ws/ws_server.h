// The WebSocket API of the C++ engine: a route's UpgradeHandler gets the pending handshake
// (Upgrade), accepts it into a Socket with Callbacks, or rejects it with an HTTP answer.
// Everything runs on the loop thread. Registration: http::Server::websocket (http/server.h).
//
// Deviations from helpers/ws-contract.md, kept small: Socket also has ping(), subprotocol(),
// extensions() and peer(); Upgrade has pending(); accept() returns nullptr when the client is
// already gone or the Upgrade was completed; Limits has close_timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event_loop.h"
#include "ws/frame.h"

namespace fa::http {
class ByteChannel;
class Connection;
class H1Protocol;
struct Request;
}  // namespace fa::http

namespace fa::ws {

using namespace std::chrono_literals;

struct Limits {
  size_t max_frame_bytes = 16 << 20;    // bytes of one frame's payload; 1009 past this
  size_t max_message_bytes = 16 << 20;  // bytes of a whole message (inflated); 1009 past this
  Duration ping_interval{20s};          // ping a connection quiet this long; 0 = off
  Duration pong_timeout{20s};           // nothing back this long after a ping: drop (1006); 0 = off
  Duration close_timeout{5s};           // our close frame unanswered this long: drop the TCP
  bool permessage_deflate = true;       // accept the client's RFC 7692 offer
  int deflate_level = 6;  // zlib level of the messages we compress: 1 fastest .. 9 smallest,
                          // 0 stored; out of range is clamped (zlib's default is 6)
};

class Socket;
using SocketPtr = std::shared_ptr<Socket>;

struct Callbacks {
  // A whole message (fragments joined, inflated, UTF-8 checked for text). `data` is valid
  // only during the call.
  std::function<void(Socket&, std::string_view data, bool binary)> on_message;
  // Exactly once per accepted socket: the code and reason of the peer's close frame (1005 if
  // it had none), the code we failed the connection with (1002, 1007, 1009, 1001 on
  // shutdown), or 1006 when the TCP connection died without a close handshake.
  std::function<void(Socket&, uint16_t code, std::string_view reason)> on_close;
  // Queued output fell below the low-water mark after a send_* returned false.
  std::function<void(Socket&)> on_drain;
};

struct AcceptOptions {
  std::string subprotocol;  // echoed in Sec-WebSocket-Protocol; should be one the client asked for
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers on the 101
};

class SocketProtocol;
class ConnectionChannel;
class MessageReader;
class Deflater;
class Inflater;
struct DeflateParams;

// One open WebSocket on the loop thread. Methods are safe to call after the connection is
// gone (sends return false, close() does nothing).
class Socket {
 public:
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Sends one message (compressed when permessage-deflate was negotiated). Returns false when
  // the socket is not open or its connection's output is past the high-water mark (the data
  // is still queued when open; wait for on_drain before sending more).
  bool send_text(std::string_view utf8);
  bool send_binary(std::string_view bytes);
  // Sends a pre-encoded frame (encode_frame; broadcast: encode once, send to many).
  bool send_frame(const EncodedFrame& frame);
  // Sends a ping (payload at most 125 bytes, else false).
  bool ping(std::string_view payload = {});
  // Starts the close handshake (RFC 6455 §7.1.2): sends a close frame, stops delivering
  // messages; the TCP connection ends when the peer answers or after Limits::close_timeout.
  // An invalid code is sent as 1000; the reason is cut to 123 bytes.
  void close(uint16_t code = close_code::kNormal, std::string_view reason = {});
  // Flow control for a slow consumer (what uvicorn/websockets do): stops delivering messages
  // and stops reading the socket, so the kernel's receive buffer fills and TCP flow control
  // slows the peer down (RFC 9293 §3.8.6) instead of messages piling up in memory. Input
  // already read stays buffered until resume_reading(), which delivers it from the loop (never
  // from inside the call). Keep-alive pings are suspended while paused (the peer's pongs are
  // not read); close() resumes reading to see the peer's close frame.
  void pause_reading();
  void resume_reading();
  bool reading_paused() const { return app_paused_; }
  // Inside on_message for a text message: every byte is ASCII, so a binding may copy it into
  // its string type without decoding it again (it was UTF-8 checked already).
  bool message_ascii() const { return message_ascii_; }
  // True until a close frame was sent or received or the connection died.
  bool open() const;
  // Bytes queued on the connection and not yet written to the socket.
  size_t buffered() const;
  std::string_view subprotocol() const { return subprotocol_; }
  // The Sec-WebSocket-Extensions value of the 101 (empty if none).
  std::string_view extensions() const { return extensions_; }
  const std::string& peer_host() const { return peer_host_; }
  uint16_t peer_port() const { return peer_port_; }

  // Made by Upgrade::accept (deflate: the negotiated permessage-deflate, or null): on the
  // connection after a HTTP/1.1 101, or on an HTTP/2 stream's channel (RFC 8441), which
  // outlives the socket's use of it (on_connection_closed ends that).
  Socket(http::Connection& conn, Callbacks cb, const Limits& limits, const DeflateParams* deflate,
         std::string subprotocol, std::string extensions);
  Socket(http::ByteChannel& channel, std::string peer_host, uint16_t peer_port, Callbacks cb,
         const Limits& limits, const DeflateParams* deflate, std::string subprotocol,
         std::string extensions);

 private:
  friend class SocketProtocol;
  Socket(std::unique_ptr<ConnectionChannel> h1, http::ByteChannel* channel, std::string peer_host,
         uint16_t peer_port, Callbacks cb, const Limits& limits, const DeflateParams* deflate,
         std::string subprotocol, std::string extensions);
  enum class State : uint8_t { kOpen, kClosing, kClosed };
  bool send_data(Opcode op, std::string_view payload);
  void send_control(Opcode op, std::string_view payload);
  int write_out(std::string_view a, std::string_view b, bool flush);  // ByteChannel::write
  bool after_send(int written);  // false when closed or past the high-water mark
  template <class Channel>
  void read_input(Channel& conn);  // on_data's loop
  void sync_reading();             // connection reads iff neither the app nor our output paused it
  void deliver_held();             // resume: process input held back while paused, from the loop
  void on_close_frame(uint16_t code, std::string_view reason);
  void fail(uint16_t code, std::string_view reason);  // send close, then drop the TCP
  void report_close(uint16_t code, std::string_view reason);
  void arm_ping();
  // Called by SocketProtocol:
  void on_data();
  void on_drain();
  void on_peer_closed();
  void on_timeout();
  void on_shutdown();
  void on_connection_closed();

  // The bytes: the connection (h1_) or an HTTP/2 stream; null once it is gone.
  http::ByteChannel* conn_;
  std::unique_ptr<ConnectionChannel> h1_;
  EventLoop& loop_;
  Callbacks cb_;
  Limits limits_;
  std::unique_ptr<Inflater> inflater_;
  std::unique_ptr<Deflater> deflater_;
  std::unique_ptr<MessageReader> reader_;
  std::string subprotocol_, extensions_, peer_host_;
  uint16_t peer_port_ = 0;
  State state_ = State::kOpen;
  bool close_reported_ = false;
  bool awaiting_pong_ = false;
  TimePoint last_rx_{};          // when bytes last arrived from the peer
  TimePoint ping_sent_{};        // when our last keep-alive ping went out
  bool want_drain_ = false;      // a send returned false: call on_drain when output drains
  bool out_paused_ = false;      // reading stopped because output is past the high-water mark
  bool app_paused_ = false;      // reading stopped by pause_reading()
  bool message_ascii_ = false;   // see message_ascii()
  bool held_scheduled_ = false;  // deliver_held() is deferred on the loop
  bool in_data_ = false;         // inside on_data: sends are flushed when it returns
  std::string scratch_;          // compressed payloads (capacity kept)
};

// The pending handshake of one upgrade request; movable. Dropped without accept/reject, the
// engine answers 403 (FastAPI closes before accept with 403). The request's facts are copied,
// so they stay valid after the handler returns (accept later, from an async task).
class Upgrade {
 public:
  Upgrade() = default;
  Upgrade(Upgrade&&) noexcept;
  Upgrade& operator=(Upgrade&&) noexcept;
  ~Upgrade();

  // Writes the 101, switches the connection to the WebSocket protocol and returns the socket.
  // Returns nullptr when the client is already gone or this Upgrade was completed.
  SocketPtr accept(AcceptOptions options = {}, Callbacks callbacks = {});
  // Answers with an HTTP status (403, 404 ...) and closes the connection instead.
  void reject(int status, std::string_view body = {});
  // Neither accepted nor rejected yet, and the connection is still open.
  bool pending() const;

  std::string_view path() const;   // raw (not percent-decoded)
  std::string_view query() const;  // after '?', raw; empty if none
  // First header with this name (case-insensitive); empty if none.
  std::string_view header(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& headers() const;
  // Path parameters of the route (raw values), in pattern order.
  const std::vector<std::pair<std::string, std::string>>& params() const;
  std::string_view param(std::string_view name) const;
  // Sec-WebSocket-Protocol values the client offered, in its order.
  const std::vector<std::string>& subprotocols() const;
  const std::string& peer_host() const;
  uint16_t peer_port() const;
  bool secure() const;  // over TLS: the URL's scheme is wss (RFC 6455 §3)

  struct State;  // defined in upgrade.cpp
  explicit Upgrade(std::unique_ptr<State> state);

 private:
  SocketPtr accept_h2(const DeflateParams& params, bool deflate, std::string extensions,
                      AcceptOptions& options, Callbacks& callbacks);
  std::unique_ptr<State> st_;
};

using UpgradeHandler = std::function<void(http::Request&, Upgrade)>;

}  // namespace fa::ws
