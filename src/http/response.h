// Response: how a handler answers. Complete (send) or streamed (start/write/end, chunked per
// RFC 9112 §7.1). A handler that returns without finishing keeps the exchange open: the
// connection stops reading until it finishes through a ResponseHandle (detach()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/file_span.h"
#include "http/body_reader.h"

namespace fa::http {

class ByteChannel;
class Connection;
class Protocol;

// Extra header lines are passed preformatted: "Name: value\r\n" repeated (may be empty).
struct ResponseHead {
  int status = 200;
  std::string_view content_type;  // empty = no Content-Type header
  std::string_view extra_headers; // "Name: value\r\n"...
};

// Exchange: the protocol side of one request/response (H1Protocol's current exchange, or one
// HTTP/2 stream of H2Protocol). Response and ResponseHandle speak only to this seam, so one
// handler serves HTTP/1.1 and HTTP/2 alike. `serial` names the exchange; stale ones are refused.
class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual bool exchange_open(uint64_t serial) const = 0;
  virtual bool started(uint64_t serial) const = 0;
  virtual bool send(Connection& conn, uint64_t serial, const ResponseHead& head,
                    std::string_view body) = 0;
  virtual bool start(Connection& conn, uint64_t serial, const ResponseHead& head) = 0;
  virtual bool write(Connection& conn, uint64_t serial, std::string_view chunk) = 0;
  virtual bool end(Connection& conn, uint64_t serial) = 0;
  virtual bool set_drain_callback(uint64_t serial, std::function<void()> fn) = 0;
  virtual bool set_done_callback(uint64_t serial, std::function<void()> fn) = 0;
  // fn() runs once (deferred) when the peer closes its side or the connection goes while this
  // exchange is open, or at once if the peer already has. The exchange stays open: a reply may
  // still be written (RFC 9112 §9.6), so this is a hint for work nobody may wait for any
  // more, as uvicorn's http.disconnect. False when the protocol has no such event (HTTP/2: a
  // reset stream ends the exchange, and on_done tells).
  virtual bool set_hangup_callback(Connection& /*conn*/, uint64_t /*serial*/,
                                   std::function<void()> /*fn*/) {
    return false;
  }
  virtual bool upgrade(Connection& conn, uint64_t serial, std::string_view response_head,
                       std::unique_ptr<Protocol> next) = 0;
  // Whether this exchange's producer should wait (HTTP/2: the stream's own buffer).
  virtual bool over_high_water(const Connection& conn, uint64_t serial) const = 0;
  // Whether the peer can no longer read this exchange (HTTP/2: the stream was reset).
  virtual bool client_gone(const Connection& conn, uint64_t serial) const = 0;
  // Queues `span` as the next body bytes of a started response without copying them (HTTP/1.1:
  // sendfile(2) from the write queue). False when this exchange cannot (HTTP/2's DATA framing,
  // a compressed body): the caller streams the file with write() instead (http/file_body.h).
  virtual bool write_file(Connection& /*conn*/, uint64_t /*serial*/, FileSpan /*span*/) {
    return false;
  }
  // Abandons the exchange unfinished. Default (HTTP/1.1): close the connection, the only way
  // to end a response whose framing cannot be completed. HTTP/2 resets just the stream.
  virtual bool abort(Connection& conn, uint64_t serial);
  // An interim (1xx) response ahead of the final one, e.g. 103 Early Hints (RFC 8297), with
  // `extra_headers` as in ResponseHead. False, nothing sent, when the exchange cannot take
  // one: its response has started or finished, or the client speaks HTTP/1.0 (RFC 9110 §15.2).
  virtual bool informational(Connection& /*conn*/, uint64_t /*serial*/, int /*status*/,
                             std::string_view /*extra_headers*/) {
    return false;
  }
  // Server push (RFC 9113 §8.4): promises a GET of `path` (origin-form, already checked) on
  // this exchange's authority and serves it through the router as its own stream. False,
  // nothing sent, where push cannot go: HTTP/1.1, a peer that disabled it
  // (SETTINGS_ENABLE_PUSH = 0), a finished response, a pushed stream, a closing connection.
  virtual bool push(Connection& /*conn*/, uint64_t /*serial*/, std::string_view /*path*/) {
    return false;
  }
  // RFC 8441 (HTTP/2 extended CONNECT): answers with `head` (a 2xx) and keeps the stream open
  // as a ByteChannel driven by the protocol `bind` returns (http/byte_channel.h). False,
  // nothing sent, where the exchange is no tunnel (HTTP/1.1 upgrades with upgrade()).
  virtual bool tunnel(Connection& /*conn*/, uint64_t /*serial*/, const ResponseHead& /*head*/,
                      const std::function<std::unique_ptr<Protocol>(ByteChannel&)>& /*bind*/) {
    return false;
  }
  // The next event of a streamed request body (Request::body_streamed; http/body_reader.h).
  // False, `fn` dropped, when this exchange's body is not streamed or a read is pending.
  virtual bool read_body(Connection& /*conn*/, uint64_t /*serial*/, BodyReader /*fn*/) {
    return false;
  }
};

// A handle that can finish the exchange later, from any loop callback. All methods return
// false (and do nothing) once the connection is gone or the exchange already finished.
class ResponseHandle {
 public:
  ResponseHandle() = default;
  ResponseHandle(std::weak_ptr<Connection> conn, Exchange* proto, uint64_t serial)
      : conn_(std::move(conn)), proto_(proto), serial_(serial) {}

  bool send(const ResponseHead& head, std::string_view body) const;
  bool start(const ResponseHead& head) const;  // chunked unless extra_headers has Content-Length
  bool write(std::string_view chunk) const;    // false also when over the high-water mark
  bool end() const;
  bool write_file(FileSpan span) const;  // see Exchange::write_file (defined in file_body.cpp)
  bool abort() const;  // abandon the exchange: HTTP/1.1 closes the connection, h2 resets
  // 103 Early Hints with one Link field per value (RFC 8297); see Response::early_hints.
  bool early_hints(std::span<const std::string_view> links) const;
  // Server push of `path`; see Response::push.
  bool push(std::string_view path) const;
  // The next chunk / end / error of a streamed request body (see Exchange::read_body).
  bool read_body(BodyReader fn) const;
  // fn() runs once when output drains below the low-water mark or the connection closes.
  bool on_drain(std::function<void()> fn) const;
  // fn() runs once when the exchange ends (response queued, or connection dropped).
  bool on_done(std::function<void()> fn) const;
  // fn() runs once when the client closes its side while the exchange is open (see
  // Exchange::set_hangup_callback); false when the protocol cannot tell.
  bool on_hangup(std::function<void()> fn) const;
  bool alive() const;          // connection open and this exchange not finished
  bool started() const;        // head already written
  bool client_gone() const;    // peer closed or connection closed
  bool over_high_water() const;
  // Ends the exchange with `response_head` (a complete 101 head) and hands the connection to
  // the protocol `make` returns (RFC 9110 §7.8). False when the exchange is no longer open.
  bool upgrade(std::string_view response_head,
               const std::function<std::unique_ptr<Protocol>(Connection&)>& make) const;
  // See Exchange::tunnel (defined in http/tunnel.cpp).
  bool tunnel(const ResponseHead& head,
              const std::function<std::unique_ptr<Protocol>(ByteChannel&)>& bind) const;

 private:
  Exchange* live() const;
  std::weak_ptr<Connection> conn_;
  Exchange* proto_ = nullptr;
  uint64_t serial_ = 0;
};

class Response {
 public:
  Response(Connection& conn, Exchange& proto, uint64_t serial)
      : conn_(conn), proto_(proto), serial_(serial) {}

  void send(const ResponseHead& head, std::string_view body);
  void send(int status, std::string_view content_type, std::string_view body) {
    send(ResponseHead{status, content_type, {}}, body);
  }
  void json(std::string_view body, int status = 200) { send(status, "application/json", body); }
  void text(std::string_view body, int status = 200) {
    send(status, "text/plain; charset=utf-8", body);
  }
  void start(const ResponseHead& head);
  bool write(std::string_view chunk);  // false when over the high-water mark
  bool write_file(FileSpan span);       // see Exchange::write_file (defined in file_body.cpp)
  // 103 Early Hints (RFC 8297) before the final response: one `Link: <value>` field per value
  // (e.g. "</app.css>; rel=preload; as=style"), on HTTP/1.1 and h2. False, nothing sent, once
  // the response has started, to an HTTP/1.0 client, or when a value holds CR, LF or NUL.
  // (http/early_hints.cpp)
  bool early_hints(std::span<const std::string_view> links);
  // HTTP/2 server push (RFC 9113 §8.4): a PUSH_PROMISE for `GET path` (origin-form: "/...",
  // visible ASCII, e.g. "/app.css") on this request's authority and scheme, whose response the
  // same router and handlers make on a stream of its own. True when the promise was queued;
  // false, nothing sent, on HTTP/1.1, when the client disabled push, once the response has
  // been sent, or for a bad path. Browsers ignore push today: prefer early_hints.
  // (http/server_push.cpp)
  bool push(std::string_view path);
  void end();
  bool finished() const;
  bool started() const;
  // Keeps the exchange open after the handler returns; finish it through the handle.
  ResponseHandle detach();

 private:
  Connection& conn_;
  Exchange& proto_;
  uint64_t serial_;
};

}  // namespace fa::http
