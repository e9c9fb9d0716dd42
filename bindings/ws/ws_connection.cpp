// WebSocketConnection bindings: the handshake's facts as Python values, accept/reject, and the
// per-message path (C++ message → one vectorcall into the Python socket's queue; send_* → one
// C++ call that queues the frame).
#include "ws_connection.h"

#include <nanobind/stl/string.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/percent_decode.h"
#include "http/request.h"

namespace nb = nanobind;

namespace fa::py {

namespace {

// The Python callables of one accepted socket. Held by the C++ callbacks; released after
// on_close (which the engine calls exactly once), which breaks the cycle
// Socket → callbacks → Python WebSocket → WebSocketConnection → Socket.
struct Sink {
  PyObject* on_message = nullptr;
  PyObject* on_close = nullptr;
  PyObject* on_drain = nullptr;
  Sink(PyObject* m, PyObject* c, PyObject* d)
      : on_message(Py_NewRef(m)), on_close(Py_NewRef(c)), on_drain(Py_NewRef(d)) {}
  ~Sink() { release(); }  // the engine destroys sockets on the loop thread, GIL held
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  void release() {
    Py_CLEAR(on_message);
    Py_CLEAR(on_close);
    Py_CLEAR(on_drain);
  }
};

// Calls fn(arg) (steals `arg`); a Python error is reported, never left set: the engine's
// poll() must not see it.
void call1(PyObject* fn, PyObject* arg) {
  if (!arg) {
    PyErr_WriteUnraisable(fn);
    return;
  }
  PyObject* args[2] = {nullptr, arg};  // slot 0 free: bound methods prepend self in place
  PyObject* r = PyObject_Vectorcall(fn, args + 1, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
  Py_DECREF(arg);
  if (!r) PyErr_WriteUnraisable(fn);
  Py_XDECREF(r);
}

// A text message as a str. The engine checked its UTF-8 (RFC 6455 §8.1), so decoding cannot
// fail; when it also found every byte ASCII, the str is one copy, without a second scan.
PyObject* text_message(std::string_view data, bool ascii) {
  auto n = static_cast<Py_ssize_t>(data.size());
  if (!ascii) return PyUnicode_DecodeUTF8(data.data(), n, nullptr);
  PyObject* s = PyUnicode_New(n, 127);
  if (s) std::memcpy(PyUnicode_DATA(s), data.data(), data.size());
  return s;
}

ws::Callbacks make_callbacks(std::shared_ptr<Sink> sink) {
  ws::Callbacks cb;
  cb.on_message = [sink](ws::Socket& sock, std::string_view data, bool binary) {
    if (!sink->on_message) return;
    call1(sink->on_message, binary ? PyBytes_FromStringAndSize(
                                         data.data(), static_cast<Py_ssize_t>(data.size()))
                                   : text_message(data, sock.message_ascii()));
  };
  cb.on_close = [sink](ws::Socket&, uint16_t code, std::string_view reason) {
    PyObject* fn = sink->on_close;
    if (!fn) return;
    Py_INCREF(fn);
    sink->release();  // no message can follow a close
    // The engine checked the reason is UTF-8 (RFC 6455 §7.1.6); "replace" never fails anyway.
    PyObject* args[3] = {nullptr, PyLong_FromLong(code),
                         PyUnicode_DecodeUTF8(reason.data(),
                                              static_cast<Py_ssize_t>(reason.size()), "replace")};
    PyObject* r = args[1] && args[2] ? PyObject_Vectorcall(fn, args + 1,
                                                           2 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr)
                                     : nullptr;
    Py_XDECREF(args[1]);
    Py_XDECREF(args[2]);
    if (!r) PyErr_WriteUnraisable(fn);
    Py_XDECREF(r);
    Py_DECREF(fn);
  };
  cb.on_drain = [sink](ws::Socket&) {
    if (!sink->on_drain) return;
    PyObject* r = PyObject_CallNoArgs(sink->on_drain);
    if (!r) PyErr_WriteUnraisable(sink->on_drain);
    Py_XDECREF(r);
  };
  return cb;
}

std::string_view bytes_like(nb::handle h, const char* what, Py_buffer& buf, bool& release) {
  release = false;
  if (PyBytes_Check(h.ptr()))
    return {PyBytes_AS_STRING(h.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(h.ptr()))};
  if (PyUnicode_Check(h.ptr())) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(h.ptr(), &n);  // lone surrogates: UnicodeEncodeError
    if (!s) throw nb::python_error();
    return {s, static_cast<size_t>(n)};
  }
  if (PyObject_GetBuffer(h.ptr(), &buf, PyBUF_SIMPLE) == 0) {
    release = true;
    return {static_cast<const char*>(buf.buf), static_cast<size_t>(buf.len)};
  }
  PyErr_Clear();
  throw nb::type_error((std::string(what) + " must be str or a bytes-like object").c_str());
}

// Holds a borrowed view of a str/bytes/buffer argument for the duration of one call.
struct ArgBytes {
  Py_buffer buf{};
  bool release = false;
  std::string_view view;
  ArgBytes(nb::handle h, const char* what) : view(bytes_like(h, what, buf, release)) {}
  ~ArgBytes() {
    if (release) PyBuffer_Release(&buf);
  }
  ArgBytes(const ArgBytes&) = delete;
  ArgBytes& operator=(const ArgBytes&) = delete;
};

bool header_safe(std::string_view v) {
  for (char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

struct PyEncodedFrame {
  ws::EncodedFrame frame;
};

class PyWsConn {
 public:
  PyWsConn(ws::Upgrade up, std::string_view pattern) : up_(std::move(up)) {
    raw_path_ = std::string(up_.path());
    query_ = std::string(up_.query());
    headers_ = up_.headers();
    params_ = up_.params();
    subprotocols_ = up_.subprotocols();
    peer_host_ = up_.peer_host();
    peer_port_ = up_.peer_port();
    secure_ = up_.secure();
    // "{name:int}" in the matched pattern: a Python int, as Request.path_params does.
    for (size_t i = 0; i < params_.size() && i < 32; ++i) {
      std::string marker = "{" + params_[i].first + ":int}";
      if (pattern.find(marker) != std::string_view::npos) int_params_ |= 1u << i;
    }
  }

  // accept(subprotocol, headers, on_message, on_close, on_drain) -> False if the client left.
  bool accept(nb::handle subprotocol, nb::handle headers, nb::handle on_message,
              nb::handle on_close, nb::handle on_drain) {
    if (sock_ || done_) throw std::runtime_error("WebSocketConnection.accept: already answered");
    ws::AcceptOptions opts;
    if (!subprotocol.is_none()) {
      ArgBytes p(subprotocol, "subprotocol");
      if (p.view.empty() || !header_safe(p.view))
        throw nb::value_error("subprotocol must be a non-empty token without CR, LF or NUL");
      opts.subprotocol.assign(p.view);
    }
    if (!headers.is_none()) {
      for (nb::handle item : headers) {
        ArgBytes n(item[0], "header name");
        ArgBytes v(item[1], "header value");
        if (n.view.empty() || !header_safe(n.view) || !header_safe(v.view) ||
            n.view.find(':') != std::string_view::npos)
          throw nb::value_error("invalid header: names and values must not contain CR, LF or NUL");
        opts.headers.emplace_back(std::string(n.view), std::string(v.view));
      }
    }
    auto sink = std::make_shared<Sink>(on_message.ptr(), on_close.ptr(), on_drain.ptr());
    done_ = true;
    sock_ = up_.accept(std::move(opts), make_callbacks(sink));
    if (!sock_) {
      sink->release();
      return false;
    }
    return true;
  }

  void reject(int status, nb::handle body) {
    if (status < 400 || status > 599) throw nb::value_error("reject: status must be in 400..599");
    if (sock_ || done_) return;  // answered already: nothing to refuse
    done_ = true;
    if (body.is_none()) {
      up_.reject(status);
    } else {
      ArgBytes b(body, "body");
      up_.reject(status, b.view);
    }
  }

  bool send_text(nb::handle data) {
    ArgBytes d(data, "data");
    return sock_ && sock_->send_text(d.view);
  }
  bool send_bytes(nb::handle data) {
    ArgBytes d(data, "data");
    return sock_ && sock_->send_binary(d.view);
  }
  bool send_frame(const PyEncodedFrame& f) { return sock_ && sock_->send_frame(f.frame); }
  void close(int code, nb::handle reason) {
    if (!sock_) return;
    std::string_view r;
    std::string owned;
    if (!reason.is_none()) {
      ArgBytes a(reason, "reason");
      owned.assign(a.view);
      r = owned;
    }
    sock_->close(static_cast<uint16_t>(code < 0 || code > 65535 ? 1000 : code), r);
  }
  bool ping(nb::handle payload) {
    ArgBytes p(payload, "payload");
    return sock_ && sock_->ping(p.view);
  }

  void pause_reading() {
    if (sock_) sock_->pause_reading();
  }
  void resume_reading() {
    if (sock_) sock_->resume_reading();
  }
  bool open() const { return sock_ && sock_->open(); }
  bool pending() const { return !done_ && up_.pending(); }
  size_t buffered() const { return sock_ ? sock_->buffered() : 0; }
  nb::object accepted_subprotocol() const {
    if (!sock_ || sock_->subprotocol().empty()) return nb::none();
    return nb::str(sock_->subprotocol().data(), sock_->subprotocol().size());
  }
  std::string extensions() const { return sock_ ? std::string(sock_->extensions()) : ""; }

  nb::object path() const { return decode(raw_path_, false); }
  nb::bytes raw_path() const { return nb::bytes(raw_path_.data(), raw_path_.size()); }
  nb::bytes query_string() const { return nb::bytes(query_.data(), query_.size()); }
  nb::list header_list() const {
    nb::list out;
    std::string lower;
    for (const auto& [name, value] : headers_) {
      lower.assign(name);
      for (auto& c : lower) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
      // Field values are ISO-8859-1 (RFC 9110 §5.5), as Request.header_list has them.
      nb::object v = nb::steal(PyUnicode_DecodeLatin1(value.data(),
                                                      static_cast<Py_ssize_t>(value.size()), nullptr));
      if (!v.is_valid()) throw nb::python_error();
      out.append(nb::make_tuple(nb::str(lower.data(), lower.size()), v));
    }
    return out;
  }
  nb::dict path_params() const {
    nb::dict out;
    for (size_t i = 0; i < params_.size(); ++i) {
      const auto& [name, value] = params_[i];
      nb::object v;
      if (i < 32 && (int_params_ & (1u << i))) {
        v = nb::steal(PyLong_FromString(value.c_str(), nullptr, 10));  // the router matched digits
        if (!v.is_valid()) throw nb::python_error();
      } else {
        v = decode(value, false);
      }
      out[nb::str(name.data(), name.size())] = v;
    }
    return out;
  }
  nb::list subprotocols() const {
    nb::list out;
    for (const auto& p : subprotocols_) out.append(nb::str(p.data(), p.size()));
    return out;
  }
  bool secure() const { return secure_; }
  nb::tuple client() const {
    return nb::make_tuple(nb::str(peer_host_.data(), peer_host_.size()), peer_port_);
  }

 private:
  static nb::object decode(std::string_view raw, bool plus_as_space) {
    std::string out;
    if (http::percent_decode(raw, out, plus_as_space)) raw = out;
    nb::object s = nb::steal(
        PyUnicode_DecodeUTF8(raw.data(), static_cast<Py_ssize_t>(raw.size()), "replace"));
    if (!s.is_valid()) throw nb::python_error();
    return s;
  }

  ws::Upgrade up_;
  ws::SocketPtr sock_;
  bool done_ = false;  // accept or reject was called
  std::string raw_path_, query_, peer_host_;
  uint16_t peer_port_ = 0;
  bool secure_ = false;
  std::vector<std::pair<std::string, std::string>> headers_, params_;
  std::vector<std::string> subprotocols_;
  uint32_t int_params_ = 0;
};

}  // namespace

ws::UpgradeHandler python_upgrade_handler(nb::object start) {
  return [start = std::move(start)](http::Request& req, ws::Upgrade up) {
    // On the loop thread inside Server.poll(): the GIL is held, as for HTTP handlers.
    nb::object conn;
    try {
      conn = nb::cast(PyWsConn(std::move(up), req.route.pattern), nb::rv_policy::move);
      start(conn);
    } catch (nb::python_error& e) {
      e.discard_as_unraisable("fasterapi websocket start");
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
      PyErr_WriteUnraisable(start.ptr());
    }
  };
}

void register_ws(nb::module_& m) {
  nb::class_<PyEncodedFrame>(m, "EncodedFrame",
                             "A WebSocket message encoded once, to send to many sockets.");
  m.def(
      "websocket_encode_frame",
      [](nb::handle message) {
        bool text = PyUnicode_Check(message.ptr());
        ArgBytes d(message, "message");
        return PyEncodedFrame{ws::encode_frame(text ? ws::Opcode::kText : ws::Opcode::kBinary, d.view)};
      },
      nb::arg("message"),
      "Encodes one unmasked, uncompressed frame: str → text, bytes-like → binary (valid on "
      "every connection, with or without permessage-deflate).");

  nb::class_<PyWsConn>(m, "WebSocketConnection",
                       "One WebSocket upgrade: the pending handshake, then the open socket.")
      .def("accept", &PyWsConn::accept, nb::arg("subprotocol").none(), nb::arg("headers").none(),
           nb::arg("on_message"), nb::arg("on_close"), nb::arg("on_drain"),
           "Writes the 101 and switches to WebSocket; on_message(str | bytes), "
           "on_close(code, reason) once, on_drain(). False if the client is gone. RuntimeError "
           "if already answered; ValueError for CR/LF/NUL in headers.")
      .def("reject", &PyWsConn::reject, nb::arg("status"), nb::arg("body").none() = nb::none(),
           "Refuses the handshake with an HTTP status (400..599); no-op once answered.")
      .def("send_text", &PyWsConn::send_text, nb::arg("data"),
           "Queues a text message (str, or UTF-8 bytes). False when closed or over the "
           "high-water mark (then wait for on_drain).")
      .def("send_bytes", &PyWsConn::send_bytes, nb::arg("data"),
           "Queues a binary message. False when closed or over the high-water mark.")
      .def("send_frame", &PyWsConn::send_frame, nb::arg("frame"),
           "Queues a pre-encoded frame (websocket_encode_frame). False as send_bytes.")
      .def("close", &PyWsConn::close, nb::arg("code") = 1000, nb::arg("reason").none() = nb::none(),
           "Starts the close handshake (RFC 6455 §7.1.2); no-op when not open.")
      .def("ping", &PyWsConn::ping, nb::arg("payload") = nb::bytes("", 0),
           "Sends a ping (at most 125 bytes); False when closed or too long.")
      .def("pause_reading", &PyWsConn::pause_reading,
           "Stops delivering messages and reading the socket (TCP flow control then slows "
           "the peer); no-op when not open.")
      .def("resume_reading", &PyWsConn::resume_reading,
           "Reads again; messages held back are delivered from the loop, not inside the call.")
      .def_prop_ro("open", &PyWsConn::open, "True until a close frame was sent or received.")
      .def_prop_ro("pending", &PyWsConn::pending, "The handshake awaits accept or reject.")
      .def_prop_ro("buffered", &PyWsConn::buffered, "Bytes queued and not yet written.")
      .def_prop_ro("accepted_subprotocol", &PyWsConn::accepted_subprotocol)
      .def_prop_ro("extensions", &PyWsConn::extensions, "Sec-WebSocket-Extensions of the 101.")
      .def_prop_ro("path", &PyWsConn::path, "The percent-decoded path.")
      .def_prop_ro("raw_path", &PyWsConn::raw_path)
      .def_prop_ro("query_string", &PyWsConn::query_string)
      .def_prop_ro("header_list", &PyWsConn::header_list, "[(lower-cased name, value)].")
      .def_prop_ro("path_params", &PyWsConn::path_params)
      .def_prop_ro("subprotocols", &PyWsConn::subprotocols, "Offered Sec-WebSocket-Protocol values.")
      .def_prop_ro("client", &PyWsConn::client, "(host, port) of the peer.")
      .def_prop_ro("secure", &PyWsConn::secure, "The connection is TLS (scheme wss).");
}

}  // namespace fa::py
