// pg Channel: one PostgreSQL connection's I/O in C++ on an fa::EventLoop: the asyncio loop's
// Loop (core/py_loop.h), the one the HTTP Server of that asyncio loop runs on too. It owns the
// connected socket (plain TCP, Unix socket, or TLS through fa::tls::TlsTransport in its client
// role), reads what arrives into the connection's Core (pg_core.cpp) and resolves the waiting
// asyncio futures in FIFO order by calling their set_result/set_exception directly: no Python
// frame per read, one wake-up of the awaiting tasks per batch. Requests queued during a loop turn
// are written together by one task at the end of the turn (auto-pipelining). Python is called
// back only on the rare paths: a cancel target's progress, write flow control (COPY), and the
// connection's end (fasterapi/pg/protocol.py).
#include <errno.h>
#include <fcntl.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <time.h>

#include "core/event_loop.h"
#include "core/py_loop.h"
#include "core/transport.h"
#include "pg_channel.h"
#include "pg_core.h"
#include "tls/tls_client.h"
#include "tls/tls_transport.h"

namespace nb = nanobind;

namespace fa::py::pg {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kHighWater = 64 * 1024;  // write flow control, as asyncio's transports
constexpr size_t kLowWater = 16 * 1024;

// Never destroyed: a global nb::object would be released after the interpreter finalized.
nb::object& g_conn_error = *new nb::object();  // PgConnectionError

nb::object conn_error(const std::string& msg) {
  if (!g_conn_error.is_valid()) return nb::borrow(PyExc_ConnectionError)(nb::str(msg.c_str()));
  return g_conn_error(nb::str(msg.c_str()));
}

std::shared_ptr<const fa::tls::TlsClientContext> client_context(bool verify,
                                                                const std::string& cafile) {
  static auto* cache = new std::map<std::pair<bool, std::string>,
                                    std::shared_ptr<const fa::tls::TlsClientContext>>();
  auto key = std::make_pair(verify, cafile);
  auto it = cache->find(key);
  if (it != cache->end()) return it->second;
  fa::tls::TlsClientConfig cfg;
  cfg.verify = verify;
  cfg.cafile = cafile;
  cfg.alpn = {};  // PostgreSQL's SSLRequest path needs none
  auto ctx = fa::tls::TlsClientContext::create(cfg);
  (*cache)[key] = ctx;
  return ctx;
}

bool is_exception(nb::handle o) {
  return PyExceptionInstance_Check(o.ptr()) != 0;
}

// time.monotonic()'s clock (CLOCK_MONOTONIC), in seconds.
double monotonic_now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The Loop a Channel is given; TypeError (closing the fd it would have owned) for anything else.
PyLoop& loop_of(const nb::object& loop, int fd) {
  if (!nb::isinstance<PyLoop>(loop)) {
    ::close(fd);
    throw nb::type_error("Channel: loop must be a fasterapi._native.Loop");
  }
  return nb::cast<PyLoop&>(loop);
}

class Channel final : public IoHandler {
 public:
  // Takes `fd` (connected, blocking or not). tls_host non-empty: TLS client on it (the SSLRequest
  // was answered 'S'); verify: check the certificate chain (against cafile, or the system store);
  // check_host: and its name against tls_host.
  Channel(nb::object loop, nb::object core, int fd, nb::object aloop, nb::object on_lost,
          nb::object on_flow, nb::object on_cancel, std::string tls_host, bool verify,
          std::string cafile, bool check_host)
      : loop_obj_(std::move(loop)),
        nloop_(loop_of(loop_obj_, fd)),
        loop_(nloop_.loop()),
        core_(std::move(core)),
        fd_(fd),
        create_future_(aloop.attr("create_future")),
        call_soon_(aloop.attr("call_soon")),
        on_lost_(std::move(on_lost)),
        on_flow_(std::move(on_flow)),
        on_cancel_(std::move(on_cancel)),
        token_(std::make_shared<Channel*>(this)) {
    if (!is_core(core_)) {
      ::close(fd);
      throw nb::type_error("Channel: core must be a pg Core");
    }
    int flags = ::fcntl(fd_, F_GETFL, 0);
    if (flags >= 0) (void)::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    if (!tls_host.empty()) {
      std::shared_ptr<const fa::tls::TlsClientContext> ctx;
      try {
        ctx = client_context(verify, cafile);
      } catch (const std::exception& e) {
        ::close(fd_);
        throw nb::value_error(e.what());
      }
      auto t = std::make_unique<fa::tls::TlsTransport>(fd_, ctx, tls_host);
      if (verify && !check_host && t->ssl()) {  // verify-ca: the chain only, not the name
        X509_VERIFY_PARAM* param = SSL_get0_param(t->ssl());
        X509_VERIFY_PARAM_set1_host(param, nullptr, 0);
        X509_VERIFY_PARAM_set1_ip(param, nullptr, 0);
      }
      tls_ = t.get();
      transport_ = std::move(t);
    } else {
      transport_ = std::make_unique<PlainTransport>(fd_);
    }
    if (!loop_.add(fd_, EPOLLIN | EPOLLRDHUP, this)) {
      int err = errno;
      ::close(fd_);
      fd_ = -1;
      throw nb::value_error(
          (std::string("Channel: cannot watch the socket: ") + std::strerror(err)).c_str());
    }
  }

  ~Channel() override {
    token_.reset();
    close_fd();
  }

  // Registers a waiter for the request just queued in the core; its bytes go out at the end of
  // this loop turn, with every other request queued meanwhile.
  nb::object request() {
    if (lost_.is_valid()) {
      (void)core_abort(core_);  // drop the request just queued
      nb::str msg = nb::str(lost_);
      nb::object exc = conn_error("connection is closed: " + std::string(msg.c_str()));
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
      throw nb::python_error();
    }
    nb::object fut = create_future_();
    if (PyList_Append(waiters_.ptr(), fut.ptr()) < 0) throw nb::python_error();
    last_used_ = monotonic_now();
    schedule_flush();
    return fut;
  }

  // Sends what the core has queued now.
  void flush() {
    if (lost_.is_valid() || fd_ < 0) return;
    std::string& out = core_out(core_);
    if (!out.empty()) {
      if (woff_ == wbuf_.size()) {
        wbuf_.clear();
        woff_ = 0;
        wbuf_.swap(out);
      } else {
        wbuf_.append(out);
        out.clear();
      }
    }
    write_some();
  }

  // The futures of the requests in flight, oldest first: a live list, read by Python's rare paths
  // (cancellation) and by the pool's choice of connection (its truth value) without a call.
  nb::list waiters() {
    compact();
    return waiters_;
  }
  size_t pending() const { return waiters_.size() - consumed_; }
  nb::object lost() const { return lost_.is_valid() ? lost_ : nb::none(); }
  nb::object loop() const { return loop_obj_; }
  // The cancel target: set while a timed-out query is being cancelled (PgProtocol.cancel_request),
  // None once requests may flow again. cancelling() stays true until then, even after the
  // target's result arrived (the CancelRequest may still be in flight).
  void set_target(nb::object fut) {
    cancelling_ = !fut.is_none();
    target_ = cancelling_ ? std::move(fut) : nb::object();
  }
  bool cancelling() const { return cancelling_; }
  bool is_lost() const { return lost_.is_valid(); }
  // When a request was last queued (time.monotonic()); the pool's idle and health checks read it.
  double last_used() const { return last_used_; }
  void set_last_used(double t) { last_used_ = t; }
  bool at_head(nb::handle fut) const {
    return pending() > 0 &&
           PyList_GET_ITEM(waiters_.ptr(), static_cast<Py_ssize_t>(consumed_)) == fut.ptr();
  }
  size_t write_buffer_size() const { return wbuf_.size() - woff_; }
  bool write_paused() const { return paused_; }
  uint64_t bytes_written() const { return written_; }

  // Sends what is buffered, then closes (the server sees EOF after a Terminate queued before).
  void close() {
    if (fd_ < 0 || lost_.is_valid()) return;
    closing_ = true;
    flush();
    if (fd_ >= 0 && !lost_.is_valid() && write_buffer_size() == 0) finish("connection closed");
  }

  // Closes at once; pending requests fail.
  void abort() {
    if (fd_ < 0 && lost_.is_valid()) return;
    finish("connection aborted");
  }

  void on_io(uint32_t events) override {
    nb::object self = nb::find(*this);  // a callback may drop the last reference to us
    if (fd_ < 0) return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) on_readable();
    if (fd_ >= 0 && !lost_.is_valid() && (events & EPOLLOUT || write_buffer_size() > 0))
      write_some();
  }

 private:
  static void deliver(void* ctx, nb::object r) {
    static_cast<Channel*>(ctx)->resolve(std::move(r));
  }

  // Resolved waiters are removed from the front of the list once per read (compact()), not
  // one by one.
  void compact() {
    if (consumed_ == 0) return;
    (void)PyList_SetSlice(waiters_.ptr(), 0, static_cast<Py_ssize_t>(consumed_), nullptr);
    consumed_ = 0;
  }

  void resolve(nb::object r) {
    if (pending() == 0) return;  // cannot happen: one waiter per request
    nb::object fut =
        nb::borrow(PyList_GET_ITEM(waiters_.ptr(), static_cast<Py_ssize_t>(consumed_)));
    ++consumed_;
    if (target_.is_valid() && fut.is(target_)) target_popped_ = true;
    settle(fut, r);
  }

  static void settle(const nb::object& fut, const nb::object& r) {
    static PyObject* s_done = PyUnicode_InternFromString("done");
    static PyObject* s_set_result = PyUnicode_InternFromString("set_result");
    static PyObject* s_set_exception = PyUnicode_InternFromString("set_exception");
    PyObject* done = PyObject_CallMethodNoArgs(fut.ptr(), s_done);
    if (!done) {
      PyErr_Clear();
      return;
    }
    bool is_done = done == Py_True;
    Py_DECREF(done);
    if (is_done) return;  // cancelled by its caller; the result is dropped
    PyObject* rv = PyObject_CallMethodOneArg(
        fut.ptr(), is_exception(r) ? s_set_exception : s_set_result, r.ptr());
    if (!rv) {
      PyErr_WriteUnraisable(fut.ptr());  // the asyncio loop is closed
      return;
    }
    Py_DECREF(rv);
  }

  void on_readable() {
    static thread_local std::string buf;
    buf.resize(kReadChunk);
    bool fed = false;
    for (;;) {
      ssize_t n = transport_->read(buf.data(), buf.size());
      if (n > 0) {
        fed = true;
        core_feed(core_, std::string_view(buf.data(), static_cast<size_t>(n)), &Channel::deliver,
                  this);
        compact();
        if (core_broken(core_)) break;
        if (static_cast<size_t>(n) < buf.size() && !transport_->has_buffered_input()) break;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      if (fed) after_feed();
      if (lost_.is_valid()) return;
      if (n == 0) return finish("server closed the connection");
      return finish(io_error(errno));
    }
    if (fed) after_feed();
    // A TLS handshake finished by this read: what waited for it can go now.
    if (fd_ >= 0 && !lost_.is_valid() && write_buffer_size() > 0) write_some();
  }

  void after_feed() {
    if (target_.is_valid()) {
      bool popped = target_popped_;
      target_popped_ = false;
      if (popped) target_ = nb::object();
      call(on_cancel_, "pg cancel", nb::bool_(popped));
    }
    if (lost_.is_valid()) return;
    if (core_broken(core_)) return finish("protocol error: " + core_error(core_));
    if (!core_out(core_).empty()) flush();
  }

  std::string io_error(int err) const {
    if (tls_ && !tls_->error().empty()) return "TLS handshake failed: " + tls_->error();
    return std::strerror(err);
  }

  void schedule_flush() {
    if (flush_scheduled_) return;
    flush_scheduled_ = true;
    std::weak_ptr<Channel*> w = token_;
    nloop_.at_turn_end(
        [w] {
          auto p = w.lock();
          if (!p) return;
          Channel* ch = *p;
          ch->flush_scheduled_ = false;
          nb::object self = nb::find(*ch);
          ch->flush();
        },
        call_soon_);
  }

  void write_some() {
    while (woff_ < wbuf_.size()) {
      iovec iov{wbuf_.data() + woff_, wbuf_.size() - woff_};
      ssize_t n = transport_->writev(&iov, 1);
      if (n > 0) {
        woff_ += static_cast<size_t>(n);
        written_ += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return finish(io_error(errno));
    }
    if (woff_ == wbuf_.size()) {
      woff_ = 0;
      wbuf_.clear();
    }
    bool want_out = write_buffer_size() > 0 || transport_->wants_write();
    if (want_out != watching_out_) {
      watching_out_ = want_out;
      loop_.modify(fd_, EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0), this);
    }
    size_t pending = write_buffer_size();
    if (!paused_ && pending > kHighWater) {
      paused_ = true;
      call(on_flow_, "pg flow control", nb::bool_(true));
    } else if (paused_ && pending <= kLowWater) {
      paused_ = false;
      call(on_flow_, "pg flow control", nb::bool_(false));
    }
    if (closing_ && pending == 0 && fd_ >= 0 && !lost_.is_valid()) finish("connection closed");
  }

  // The connection ends: close the socket, fail every waiter, tell Python (in a later callback).
  void finish(const std::string& why) {
    if (lost_.is_valid()) {
      close_fd();
      return;
    }
    lost_ = conn_error(why);
    close_fd();
    nb::list errors = core_abort(core_);
    nb::object fallback = conn_error("connection lost: " + why);
    compact();
    std::vector<nb::object> failed;  // emptied first: the list stays the one Python holds
    for (size_t i = 0; i < waiters_.size(); ++i)
      failed.push_back(nb::borrow(PyList_GET_ITEM(waiters_.ptr(), static_cast<Py_ssize_t>(i))));
    (void)PyList_SetSlice(waiters_.ptr(), 0, static_cast<Py_ssize_t>(failed.size()), nullptr);
    for (size_t i = 0; i < failed.size(); ++i) {
      nb::object err = i < errors.size() ? nb::object(errors[i]) : nb::none();
      settle(failed[i], is_exception(err) ? err : fallback);
    }
    target_ = nb::object();
    cancelling_ = false;
    if (on_lost_.is_valid() && !on_lost_.is_none()) {
      try {
        call_soon_(on_lost_, lost_);
      } catch (nb::python_error& e) {
        e.discard_as_unraisable("pg connection lost");
      }
    }
  }

  void close_fd() {
    if (fd_ < 0) return;
    loop_.remove(fd_);
    transport_.reset();
    tls_ = nullptr;
    ::close(fd_);
    fd_ = -1;
  }

  static void call(const nb::object& fn, const char* where, nb::handle arg) {
    if (!fn.is_valid() || fn.is_none()) return;
    try {
      fn(arg);
    } catch (nb::python_error& e) {
      e.discard_as_unraisable(where);
    }
  }

  nb::object loop_obj_;
  PyLoop& nloop_;
  EventLoop& loop_;
  nb::object core_;
  int fd_;
  std::unique_ptr<Transport> transport_;
  fa::tls::TlsTransport* tls_ = nullptr;
  nb::object create_future_, call_soon_;
  nb::object on_lost_, on_flow_, on_cancel_;
  nb::list waiters_;
  size_t consumed_ = 0;  // waiters at the front already resolved (removed by compact())
  nb::object target_;
  bool target_popped_ = false;
  bool cancelling_ = false;
  double last_used_ = monotonic_now();
  nb::object lost_;
  std::string wbuf_;
  size_t woff_ = 0;
  uint64_t written_ = 0;  // bytes handed to the socket (TLS: plaintext)
  bool watching_out_ = false;
  bool paused_ = false;
  bool closing_ = false;
  bool flush_scheduled_ = false;
  std::shared_ptr<Channel*> token_;  // deferred flushes hold it weakly
};

}  // namespace

bool is_channel(nb::handle h) {
  return nb::isinstance<Channel>(h);
}
size_t channel_pending(nb::handle ch) {
  return nb::inst_ptr<Channel>(ch)->pending();
}
bool channel_cancelling(nb::handle ch) {
  return nb::inst_ptr<Channel>(ch)->cancelling();
}
bool channel_lost(nb::handle ch) {
  return nb::inst_ptr<Channel>(ch)->is_lost();
}
nb::object channel_request(nb::handle ch) {
  return nb::inst_ptr<Channel>(ch)->request();
}

void register_channel(nb::module_& m) {
  nb::class_<Channel>(m, "Channel", "One connection's socket I/O on a Loop (see pg_channel.cpp).")
      .def(nb::init<nb::object, nb::object, int, nb::object, nb::object, nb::object, nb::object,
                    std::string, bool, std::string, bool>(),
           nb::arg("loop"), nb::arg("core"), nb::arg("fd"), nb::arg("aloop"),
           nb::arg("on_lost").none(), nb::arg("on_flow").none(), nb::arg("on_cancel").none(),
           nb::arg("tls_host") = "", nb::arg("verify") = false, nb::arg("cafile") = "",
           nb::arg("check_host") = false)
      .def("request", &Channel::request)
      .def("flush", &Channel::flush)
      .def("close", &Channel::close)
      .def("abort", &Channel::abort)
      .def("set_target", &Channel::set_target, nb::arg("fut").none())
      .def("at_head", &Channel::at_head, nb::arg("fut"))
      .def_prop_ro("waiters", &Channel::waiters)
      .def_prop_ro("pending", &Channel::pending)
      .def_prop_ro("lost", &Channel::lost)
      .def_prop_ro("loop", &Channel::loop, "The Loop its socket is watched by.")
      .def_prop_ro("cancelling", &Channel::cancelling)
      .def_prop_rw("last_used", &Channel::last_used, &Channel::set_last_used)
      .def_prop_ro("write_buffer_size", &Channel::write_buffer_size)
      .def_prop_ro("write_paused", &Channel::write_paused)
      .def_prop_ro("bytes_written", &Channel::bytes_written);
  m.def(
      "set_connection_error", [](nb::object cls) { g_conn_error = std::move(cls); },
      "Sets the exception class for a lost connection (PgConnectionError).");
}

}  // namespace fa::py::pg
