// Request type implementation: copies the head bytes once, re-parses headers on demand.
#include "py_request.h"

#include <structmember.h>

#include <memory>
#include <new>
#include <string>
#include <vector>

#include "http/ascii.h"
#include "http/connection.h"
#include "http/h1_parser.h"
#include "http/percent_decode.h"
#include "http/query_lookup.h"
#include "tls/tls_info.h"

namespace fa::py {

namespace {

struct Span32 {
  uint32_t off = 0, len = 0;
};

struct RequestData {
  std::string raw;  // the request head as received, then the route's parameter names
  Span32 method, target, path, query;
  struct Param {
    Span32 name, value;
  };
  Param params[http::kMaxRouteParams];
  uint8_t num_params = 0;
  uint16_t int_params = 0;  // bit i: param i was declared {name:int} → Python int
  Span32 allow;  // the route's methods when none matched the request's (405), else empty
  uint8_t version_minor = 1;
  uint8_t version_major = 1;  // 2: an HTTP/2 stream
  bool keep_alive = true;
  bool tls = false;  // the connection is TLS: scheme https
  bool body_streamed = false;  // the body arrives through read_body (a streaming route)
  std::shared_ptr<const tls::TlsInfo> tls_info;  // the ASGI TLS extension's facts
  std::string client_host;
  uint16_t client_port = 0;
  http::ResponseHandle handle;

  // Never throws (getters must not let C++ exceptions reach CPython): out of range → empty.
  std::string_view view(Span32 s) const {
    if (s.off > raw.size() || s.len > raw.size() - s.off) return {};
    return std::string_view(raw.data() + s.off, s.len);
  }
};

struct RequestObject {
  PyObject_HEAD
  RequestData d;
  PyObject* body;          // bytes (owned)
  PyObject* method;        // caches, created on first access
  PyObject* path;
  PyObject* path_params;
  PyObject* header_list;
  PyObject* done_callbacks;  // list or nullptr
};

// Offset of a view into the copied head; empty views may point anywhere (or be null).
Span32 span_in(const char* base, std::string_view v) {
  if (v.empty()) return Span32{};
  return Span32{static_cast<uint32_t>(v.data() - base), static_cast<uint32_t>(v.size())};
}

PyObject* decode_component(std::string_view raw, bool plus_as_space) {
  if (!http::needs_percent_decode(raw, plus_as_space))
    return PyUnicode_DecodeUTF8(raw.data(), static_cast<Py_ssize_t>(raw.size()), "replace");
  std::string out;
  http::percent_decode(raw, out, plus_as_space);
  return PyUnicode_DecodeUTF8(out.data(), static_cast<Py_ssize_t>(out.size()), "replace");
}

PyObject* Request_new(PyTypeObject* type, PyObject*, PyObject*) {
  auto* self = reinterpret_cast<RequestObject*>(type->tp_alloc(type, 0));
  if (!self) return nullptr;
  new (&self->d) RequestData();
  self->body = PyBytes_FromStringAndSize(nullptr, 0);
  return reinterpret_cast<PyObject*>(self);
}

int Request_traverse(PyObject* o, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<RequestObject*>(o);
  Py_VISIT(self->path_params);
  Py_VISIT(self->header_list);
  Py_VISIT(self->done_callbacks);
  return 0;
}

int Request_clear(PyObject* o) {
  auto* self = reinterpret_cast<RequestObject*>(o);
  Py_CLEAR(self->path_params);
  Py_CLEAR(self->header_list);
  Py_CLEAR(self->done_callbacks);
  return 0;
}

void Request_dealloc(PyObject* o) {
  auto* self = reinterpret_cast<RequestObject*>(o);
  PyObject_GC_UnTrack(o);
  Request_clear(o);
  Py_CLEAR(self->body);
  Py_CLEAR(self->method);
  Py_CLEAR(self->path);
  self->d.~RequestData();
  Py_TYPE(o)->tp_free(o);
}

RequestObject* self_of(PyObject* o) { return reinterpret_cast<RequestObject*>(o); }

PyObject* get_method(PyObject* o, void*) {
  auto* self = self_of(o);
  if (!self->method) {
    auto m = self->d.view(self->d.method);
    self->method = PyUnicode_FromStringAndSize(m.data(), static_cast<Py_ssize_t>(m.size()));
    if (!self->method) return nullptr;
    PyUnicode_InternInPlace(&self->method);
  }
  return Py_NewRef(self->method);
}

PyObject* get_path(PyObject* o, void*) {
  auto* self = self_of(o);
  if (!self->path) {
    self->path = decode_component(self->d.view(self->d.path), false);
    if (!self->path) return nullptr;
  }
  return Py_NewRef(self->path);
}

PyObject* get_raw_path(PyObject* o, void*) {
  auto p = self_of(o)->d.view(self_of(o)->d.path);
  return PyBytes_FromStringAndSize(p.data(), static_cast<Py_ssize_t>(p.size()));
}

PyObject* get_query_string(PyObject* o, void*) {
  auto q = self_of(o)->d.view(self_of(o)->d.query);
  return PyBytes_FromStringAndSize(q.data(), static_cast<Py_ssize_t>(q.size()));
}

PyObject* get_path_params(PyObject* o, void*) {
  auto* self = self_of(o);
  if (!self->path_params) {
    PyObject* d = PyDict_New();
    if (!d) return nullptr;
    for (uint8_t i = 0; i < self->d.num_params; ++i) {
      auto name = self->d.view(self->d.params[i].name);
      PyObject* k = PyUnicode_FromStringAndSize(name.data(), static_cast<Py_ssize_t>(name.size()));
      PyObject* v;
      if (self->d.int_params & (1u << i)) {
        // The router matched [-]digits; PyLong parses any length exactly.
        std::string digits(self->d.view(self->d.params[i].value));
        v = PyLong_FromString(digits.c_str(), nullptr, 10);
      } else {
        v = decode_component(self->d.view(self->d.params[i].value), false);
      }
      if (!k || !v || PyDict_SetItem(d, k, v) < 0) {
        Py_XDECREF(k);
        Py_XDECREF(v);
        Py_DECREF(d);
        return nullptr;
      }
      Py_DECREF(k);
      Py_DECREF(v);
    }
    self->path_params = d;
  }
  return Py_NewRef(self->path_params);
}

PyObject* get_header_list(PyObject* o, void*) {
  auto* self = self_of(o);
  if (self->header_list) return Py_NewRef(self->header_list);
  // Re-parse the copied head: it was accepted once, so it parses again (with roomy limits).
  http::ParserLimits roomy;
  roomy.max_request_line = roomy.max_header_bytes = self->d.raw.size() + 1;
  roomy.max_headers = http::kMaxHeaders;
  roomy.max_body_bytes = UINT64_MAX;
  http::RequestParser parser(roomy);
  auto head = std::make_unique<http::RequestHead>();
  if (parser.parse_request(self->d.raw, 0, *head) <= 0) {
    PyErr_SetString(PyExc_RuntimeError, "Request.header_list: stored head does not parse");
    return nullptr;
  }
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(head->num_headers));
  if (!list) return nullptr;
  std::string lower;
  for (size_t i = 0; i < head->num_headers; ++i) {
    const auto& h = head->headers[i];
    lower.assign(h.name);
    for (auto& c : lower) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    // Field values are ISO-8859-1 in HTTP/1.1 (RFC 9110 §5.5), as in ASGI servers.
    PyObject* item = Py_BuildValue("(s#N)", lower.data(), static_cast<Py_ssize_t>(lower.size()),
                                   PyUnicode_DecodeLatin1(h.value.data(),
                                                          static_cast<Py_ssize_t>(h.value.size()),
                                                          nullptr));
    if (!item) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
  }
  self->header_list = list;
  return Py_NewRef(list);
}

// The ASGI scope's "headers" (ASGI HTTP spec 2.4: an iterable of [name, value] byte strings,
// names lower-cased), built here: encoding header_list's strings back to bytes in Python costs
// more than the rest of the scope (benchmarks/asgi/bench_scope.py).
PyObject* get_asgi_headers(PyObject* o, void*) {
  auto* self = self_of(o);
  http::ParserLimits roomy;  // the stored head parsed once already: see get_header_list
  roomy.max_request_line = roomy.max_header_bytes = self->d.raw.size() + 1;
  roomy.max_headers = http::kMaxHeaders;
  roomy.max_body_bytes = UINT64_MAX;
  http::RequestParser parser(roomy);
  auto head = std::make_unique<http::RequestHead>();
  if (parser.parse_request(self->d.raw, 0, *head) <= 0) {
    PyErr_SetString(PyExc_RuntimeError, "Request.asgi_headers: stored head does not parse");
    return nullptr;
  }
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(head->num_headers));
  if (!list) return nullptr;
  std::string lower;
  for (size_t i = 0; i < head->num_headers; ++i) {
    const auto& h = head->headers[i];
    lower.assign(h.name);
    for (auto& c : lower) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    PyObject* item = Py_BuildValue("(y#y#)", lower.data(), static_cast<Py_ssize_t>(lower.size()),
                                   h.value.data(), static_cast<Py_ssize_t>(h.value.size()));
    if (!item) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
  }
  return list;
}

// Request.header(name): the first value of field `name` (compared case-insensitively, RFC 9110
// §5.1), OWS trimmed, or None. A scan of the stored head, which the parser accepted with CRLF
// line ends only: far cheaper than header_list when one field is wanted (the JSON body's
// Content-Type check on every body request).
PyObject* request_header(PyObject* o, PyObject* arg) {
  Py_ssize_t n = 0;
  const char* want = PyUnicode_AsUTF8AndSize(arg, &n);
  if (!want) return nullptr;
  std::string_view raw = self_of(o)->d.raw;
  size_t end = raw.find("\r\n\r\n");
  size_t pos = raw.find("\r\n");  // the end of the request line
  std::string_view name(want, static_cast<size_t>(n));
  while (end != std::string_view::npos && pos < end) {
    size_t start = pos + 2;
    size_t eol = raw.find("\r\n", start);
    std::string_view line = raw.substr(start, eol - start);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        http::ascii_iequals(line.substr(0, name.size()), name)) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      // Field values are ISO-8859-1 (RFC 9110 §5.5), as in header_list.
      return PyUnicode_DecodeLatin1(v.data(), static_cast<Py_ssize_t>(v.size()), nullptr);
    }
    pos = eol;
  }
  Py_RETURN_NONE;
}

// The query string and the wanted name as query_value/query_values answer for them, or false
// (NotImplemented for the caller) when one is not ASCII: Python decodes such a query as
// Latin-1 before the escapes (Starlette's QueryParams), which the fallback does exactly.
bool ascii_query_and_name(PyObject* o, PyObject* arg, std::string_view& query,
                          std::string_view& name) {
  if (!PyUnicode_Check(arg)) {
    PyErr_SetString(PyExc_TypeError, "Request.query_value(s): the name must be a str");
    return false;
  }
  if (!PyUnicode_IS_ASCII(arg)) return false;
  name = std::string_view(static_cast<const char*>(PyUnicode_DATA(arg)),
                          static_cast<size_t>(PyUnicode_GET_LENGTH(arg)));
  query = self_of(o)->d.view(self_of(o)->d.query);
  return http::is_ascii(query);
}

// Request.query_value(name): the last value of query parameter `name`, decoded ('+' is a
// space, %XX escapes as UTF-8 with replacement), as QueryParams(query_string).get(name) gives
// it, without building the mapping; None when absent.
PyObject* query_value(PyObject* o, PyObject* arg) {
  std::string_view query, name;
  if (!ascii_query_and_name(o, arg, query, name)) {
    if (PyErr_Occurred()) return nullptr;
    Py_RETURN_NOTIMPLEMENTED;
  }
  std::string_view last;
  bool found = false;
  http::for_each_query_value(query, name, [&](std::string_view v) {
    last = v;
    found = true;
  });
  if (!found) Py_RETURN_NONE;
  return decode_component(last, true);
}

// Request.query_values(name): every value of `name` in order, as QueryParams.getlist(name).
PyObject* query_values(PyObject* o, PyObject* arg) {
  std::string_view query, name;
  if (!ascii_query_and_name(o, arg, query, name)) {
    if (PyErr_Occurred()) return nullptr;
    Py_RETURN_NOTIMPLEMENTED;
  }
  PyObject* list = PyList_New(0);
  if (!list) return nullptr;
  bool ok = true;
  http::for_each_query_value(query, name, [&](std::string_view v) {
    if (!ok) return;
    PyObject* s = decode_component(v, true);
    ok = s && PyList_Append(list, s) == 0;
    Py_XDECREF(s);
  });
  if (!ok) {
    Py_DECREF(list);
    return nullptr;
  }
  return list;
}

PyObject* get_body(PyObject* o, void*) { return Py_NewRef(self_of(o)->body); }

PyObject* get_client(PyObject* o, void*) {
  auto* self = self_of(o);
  return Py_BuildValue("(s#i)", self->d.client_host.data(),
                       static_cast<Py_ssize_t>(self->d.client_host.size()), self->d.client_port);
}

PyObject* get_http_version(PyObject* o, void*) {
  const RequestData& d = self_of(o)->d;  // ASGI's spellings: "1.0", "1.1", "2"
  return PyUnicode_FromString(d.version_major == 2 ? "2" : d.version_minor == 0 ? "1.0" : "1.1");
}

PyObject* get_scheme(PyObject* o, void*) { return PyUnicode_FromString(self_of(o)->d.tls ? "https" : "http"); }

PyObject* get_allowed_methods(PyObject* o, void*) {
  auto a = self_of(o)->d.view(self_of(o)->d.allow);
  return PyUnicode_FromStringAndSize(a.data(), static_cast<Py_ssize_t>(a.size()));
}

PyObject* get_keep_alive(PyObject* o, void*) { return PyBool_FromLong(self_of(o)->d.keep_alive); }

PyObject* get_response_open(PyObject* o, void*) {
  return PyBool_FromLong(self_of(o)->d.handle.alive());
}

PyObject* get_client_gone(PyObject* o, void*) {
  return PyBool_FromLong(self_of(o)->d.handle.client_gone());
}

void run_done_callbacks(PyObject* o) {
  auto* self = self_of(o);
  PyObject* cbs = self->done_callbacks;
  if (!cbs) return;
  self->done_callbacks = nullptr;
  Py_ssize_t n = PyList_GET_SIZE(cbs);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* r = PyObject_CallNoArgs(PyList_GET_ITEM(cbs, i));
    if (!r) {
      PyErr_WriteUnraisable(PyList_GET_ITEM(cbs, i));
    }
    Py_XDECREF(r);
  }
  Py_DECREF(cbs);
}

PyObject* add_done_callback(PyObject* o, PyObject* fn) {
  auto* self = self_of(o);
  if (!PyCallable_Check(fn)) {
    PyErr_SetString(PyExc_TypeError, "Request.add_done_callback: argument must be callable");
    return nullptr;
  }
  if (!self->done_callbacks) {
    self->done_callbacks = PyList_New(0);
    if (!self->done_callbacks) return nullptr;
    Py_INCREF(o);
    bool registered = self->d.handle.on_done([o] {
      // After the response is queued: run after the current batch is flushed.
      // (The GIL is held: the engine only runs inside Server.poll().)
      run_done_callbacks(o);
      Py_DECREF(o);
    });
    if (!registered) {
      // The exchange already ended (or the connection is gone): run at once.
      Py_DECREF(o);
      if (PyList_Append(self->done_callbacks, fn) < 0) return nullptr;
      run_done_callbacks(o);
      Py_RETURN_NONE;
    }
  }
  if (PyList_Append(self->done_callbacks, fn) < 0) return nullptr;
  Py_RETURN_NONE;
}

// request.add_hangup_callback(fn): fn() once the client closes its side while the response is
// pending (http::ResponseHandle::on_hangup). False when the protocol cannot tell (HTTP/2) or the
// exchange is over: the caller polls client_gone then.
PyObject* add_hangup_callback(PyObject* o, PyObject* fn) {
  auto* self = self_of(o);
  if (!PyCallable_Check(fn)) {
    PyErr_SetString(PyExc_TypeError, "Request.add_hangup_callback: argument must be callable");
    return nullptr;
  }
  // Owns one reference to fn for as long as the engine keeps the callback, run or not (the
  // GIL is held wherever the engine runs or drops it: inside Server.poll() or its close).
  struct Held {
    PyObject* fn;
    explicit Held(PyObject* f) : fn(Py_NewRef(f)) {}
    ~Held() { Py_DECREF(fn); }
  };
  auto held = std::make_shared<Held>(fn);
  bool registered = self->d.handle.on_hangup([held] {
    PyObject* r = PyObject_CallNoArgs(held->fn);
    if (r)
      Py_DECREF(r);
    else
      PyErr_WriteUnraisable(held->fn);
  });
  return PyBool_FromLong(registered);
}

// request.send_early_hints(*links): 103 Early Hints (RFC 8297), one Link field per value.
PyObject* send_early_hints(PyObject* o, PyObject* args) {
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  std::vector<std::string_view> links;
  links.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PyTuple_GET_ITEM(args, i);
    Py_ssize_t len = 0;
    const char* s = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &len) : nullptr;
    if (!s) {
      if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "Request.send_early_hints: each link must be a str");
      return nullptr;
    }
    std::string_view v(s, static_cast<size_t>(len));
    if (v.empty() || v.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      PyErr_SetString(PyExc_ValueError,
                      "Request.send_early_hints: a link must be non-empty, without CR, LF or NUL");
      return nullptr;
    }
    links.push_back(v);
  }
  if (links.empty()) {
    PyErr_SetString(PyExc_TypeError, "Request.send_early_hints: give at least one link");
    return nullptr;
  }
  return PyBool_FromLong(self_of(o)->d.handle.early_hints(links));
}

// request.push_promise(path): HTTP/2 server push (RFC 9113 §8.4) of GET `path`; the Python
// spelling with Starlette's name and awaitability is fasterapi/requests.py's send_push_promise.
PyObject* push_promise(PyObject* o, PyObject* arg) {
  Py_ssize_t len = 0;
  const char* s = PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, &len) : nullptr;
  if (!s) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, "Request.push_promise: the path must be a str");
    return nullptr;
  }
  std::string_view path(s, static_cast<size_t>(len));
  bool ok = !path.empty() && path[0] == '/';
  for (unsigned char c : path) ok &= c > 0x20 && c < 0x7f;  // origin-form, visible ASCII
  if (!ok) {
    PyErr_SetString(PyExc_ValueError,
                    "Request.push_promise: the path must start with '/' and be visible ASCII "
                    "(percent-encode the rest), e.g. '/static/app.css'");
    return nullptr;
  }
  return PyBool_FromLong(self_of(o)->d.handle.push(path));
}

PyObject* str_or_none(const std::string& s) {
  if (s.empty()) Py_RETURN_NONE;
  return PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

PyObject* get_body_streamed(PyObject* o, void*) {
  return PyBool_FromLong(self_of(o)->d.body_streamed);
}

// read_body(callback): the next event of a streamed body, as callback(data, status): data is
// the next chunk (bytes), b"" at the end, or None when the body cannot be read to its end
// (status: 0 the client left, 400 bad framing, 413 too large; the engine answered those).
PyObject* read_body(PyObject* o, PyObject* fn) {
  if (!PyCallable_Check(fn)) {
    PyErr_SetString(PyExc_TypeError, "Request.read_body: argument must be callable");
    return nullptr;
  }
  auto* self = self_of(o);
  if (!self->d.body_streamed) Py_RETURN_FALSE;
  Py_INCREF(fn);
  // The engine calls readers inside Server.poll(), with the GIL held.
  auto call = [fn](http::BodyEvent ev, std::string_view chunk, int status) {
    PyObject* data;
    if (ev == http::BodyEvent::kError) {
      data = Py_NewRef(Py_None);
    } else {
      data = PyBytes_FromStringAndSize(chunk.data(), static_cast<Py_ssize_t>(chunk.size()));
    }
    PyObject* r = data ? PyObject_CallFunction(fn, "Ni", data, status) : nullptr;
    if (!r) PyErr_WriteUnraisable(fn);
    Py_XDECREF(r);
  };
  // The std::function owns one reference to fn, dropped with the last copy.
  std::shared_ptr<PyObject> owner(fn, [](PyObject* f) { Py_DECREF(f); });
  bool ok = self->d.handle.read_body(
      [call, owner](http::BodyEvent ev, std::string_view chunk, int status) { call(ev, chunk, status); });
  return PyBool_FromLong(ok);
}

// The ASGI TLS extension's dict (asgiref "TLS" extension), or None over plain TCP.
PyObject* get_tls_extension(PyObject* o, void*) {
  const auto& info = self_of(o)->d.tls_info;
  if (!info) Py_RETURN_NONE;
  PyObject* chain = PyList_New(0);
  if (!chain) return nullptr;
  for (const std::string& pem : info->client_cert_chain) {
    PyObject* s = PyUnicode_FromStringAndSize(pem.data(), static_cast<Py_ssize_t>(pem.size()));
    if (!s || PyList_Append(chain, s) < 0) {
      Py_XDECREF(s);
      Py_DECREF(chain);
      return nullptr;
    }
    Py_DECREF(s);
  }
  return Py_BuildValue("{s:N,s:N,s:N,s:N,s:i,s:i}", "server_cert", str_or_none(info->server_cert),
                       "client_cert_chain", chain, "client_cert_name",
                       str_or_none(info->client_cert_name), "client_cert_error",
                       str_or_none(info->client_cert_error), "tls_version", info->version,
                       "cipher_suite", info->cipher_suite);
}

PyGetSetDef request_getset[] = {
    {"method", get_method, nullptr, "The request method, e.g. 'GET'.", nullptr},
    {"path", get_path, nullptr, "The percent-decoded path.", nullptr},
    {"raw_path", get_raw_path, nullptr, "The path as sent (bytes).", nullptr},
    {"query_string", get_query_string, nullptr, "The raw query string after '?' (bytes).", nullptr},
    {"path_params", get_path_params, nullptr, "Route parameters, percent-decoded.", nullptr},
    {"header_list", get_header_list, nullptr, "[(lower-cased name, value)] in order.", nullptr},
    {"asgi_headers", get_asgi_headers, nullptr,
     "[(lower-cased name, value)] as bytes, in order (a new list: the ASGI scope's).", nullptr},
    {"body", get_body, nullptr, "The request body (bytes).", nullptr},
    {"client", get_client, nullptr, "(host, port) of the peer.", nullptr},
    {"http_version", get_http_version, nullptr, "'1.1', '1.0' or '2'.", nullptr},
    {"scheme", get_scheme, nullptr, "'https' over TLS, else 'http'.", nullptr},
    {"tls_extension", get_tls_extension, nullptr,
     "The ASGI TLS extension's dict (server_cert, client_cert_chain, client_cert_name, "
     "client_cert_error, tls_version, cipher_suite); None over plain TCP.", nullptr},
    {"keep_alive", get_keep_alive, nullptr, "Whether the connection stays open.", nullptr},
    {"allowed_methods", get_allowed_methods, nullptr,
     "For a request no route answers with its method: the path's methods ('GET, HEAD'); "
     "else ''.", nullptr},
    {"response_open", get_response_open, nullptr, "True until the response is finished.", nullptr},
    {"client_gone", get_client_gone, nullptr,
     "True once the client closed its side of the connection (or it closed).", nullptr},
    {"body_streamed", get_body_streamed, nullptr,
     "True when the body is read with read_body() as it arrives (a streaming route and a body "
     "past 64 KiB or chunked); `body` is empty then.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMethodDef request_methods[] = {
    {"add_done_callback", add_done_callback, METH_O,
     "add_done_callback(fn): call fn() once the response has been queued for the socket (or the "
     "connection dropped)."},
    {"add_hangup_callback", add_hangup_callback, METH_O,
     "add_hangup_callback(fn): call fn() once when the client closes its side of the "
     "connection while the response is pending. False when that cannot be told (HTTP/2) or the "
     "response is over: poll client_gone then."},
    {"query_value", query_value, METH_O,
     "query_value(name): the last value of query parameter name ('+' and %XX decoded), None "
     "when absent, NotImplemented when the query or name is not ASCII (use query_params)."},
    {"query_values", query_values, METH_O,
     "query_values(name): every value of query parameter name, in order (a list); "
     "NotImplemented when the query or name is not ASCII (use query_params)."},
    {"header", request_header, METH_O,
     "header(name): the first value of that field (name case-insensitive), or None."},
    {"send_early_hints", send_early_hints, METH_VARARGS,
     "send_early_hints(*links): send 103 Early Hints with one Link field per value, before the "
     "response. False when none can go (response started, HTTP/1.0 client)."},
    {"read_body", read_body, METH_O,
     "read_body(callback): callback(data, status) once with the next chunk of a streamed body "
     "(bytes), b'' at its end, or None when it cannot be read (status 0: the client left; 400, "
     "413: the engine answered). False when the body is not streamed or a read is pending."},
    {"push_promise", push_promise, METH_O,
     "push_promise(path): HTTP/2 server push of GET path (PUSH_PROMISE, then the pushed "
     "response from the same routes). False, nothing sent, on HTTP/1.1, when the client "
     "disabled push or once the response was sent."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

PyTypeObject RequestType = {PyVarObject_HEAD_INIT(nullptr, 0)};

bool init_request_type() {
  RequestType.tp_name = "fasterapi._native.Request";
  RequestType.tp_basicsize = sizeof(RequestObject);
  RequestType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;
  RequestType.tp_doc = "An HTTP request (engine side).";
  RequestType.tp_new = Request_new;
  RequestType.tp_dealloc = Request_dealloc;
  RequestType.tp_traverse = Request_traverse;
  RequestType.tp_clear = Request_clear;
  RequestType.tp_getset = request_getset;
  RequestType.tp_methods = request_methods;
  return PyType_Ready(&RequestType) == 0;
}

PyObject* make_request(PyTypeObject* type, const http::Request& req, const http::ResponseHandle& handle) {
  auto* self = reinterpret_cast<RequestObject*>(type->tp_alloc(type, 0));
  if (!self) return nullptr;
  new (&self->d) RequestData();
  RequestData& d = self->d;
  const char* base = req.head.method.data();
  d.raw.reserve(req.head.head_bytes + 32);
  d.raw.assign(base, req.head.head_bytes);
  d.method = span_in(base, req.head.method);
  d.target = span_in(base, req.head.target);
  d.path = span_in(base, req.head.path);
  d.query = span_in(base, req.head.query);
  d.num_params = static_cast<uint8_t>(req.route.num_params);
  for (size_t i = 0; i < req.route.num_params; ++i) {
    d.params[i].value = span_in(base, req.route.params[i].value);
    d.params[i].name = Span32{static_cast<uint32_t>(d.raw.size()),
                              static_cast<uint32_t>(req.route.params[i].name.size())};
    d.raw.append(req.route.params[i].name);
    // "{name:int}" in the matched pattern marks an int parameter (Starlette's convertor).
    std::string_view pat = req.route.pattern;
    std::string_view name = req.route.params[i].name;
    size_t at = pat.find(name);
    while (at != std::string_view::npos) {
      if (at > 0 && pat[at - 1] == '{' && pat.substr(at + name.size(), 5) == ":int}") {
        d.int_params |= static_cast<uint16_t>(1u << i);
        break;
      }
      at = pat.find(name, at + 1);
    }
  }
  if (req.route.status == http::RouteStatus::kMethodNotAllowed) {
    d.allow = Span32{static_cast<uint32_t>(d.raw.size()), static_cast<uint32_t>(req.route.allow.size())};
    d.raw.append(req.route.allow);
  }
  d.version_minor = req.head.version_minor;
  d.version_major = req.head.version_major;
  d.keep_alive = req.head.keep_alive;
  d.client_host = req.peer.host;
  d.client_port = req.peer.port;
  d.tls = req.peer.tls;
  d.tls_info = req.peer.tls_info;
  d.body_streamed = req.body_streamed;
  d.handle = handle;
  static PyObject* empty = PyBytes_FromStringAndSize(nullptr, 0);
  self->body = req.body.empty()
                   ? Py_NewRef(empty)
                   : PyBytes_FromStringAndSize(req.body.data(), static_cast<Py_ssize_t>(req.body.size()));
  if (!self->body) {
    Py_DECREF(self);
    return nullptr;
  }
  return reinterpret_cast<PyObject*>(self);
}

}  // namespace fa::py
