// The engine's answer to a handler's plain return value, one implementation for both places a
// value is answered: inline when the handler returned at once (server_module.cpp), and
// Responder.send_result when a Task finished a suspended handler (fasterapi/_dispatch.py).
// Anything else (Response objects, models, background tasks on `res`) is left to
// fasterapi._dispatch.render.
#pragma once

#include <Python.h>

#include <string>
#include <string_view>

#include "http/response.h"

namespace fa::py {

// A caller's reused buffers: content types, the header lines of `res`, the encoded JSON body.
struct AnswerBuffers {
  std::string content_type;      // from res.media_type
  std::string raw_content_type;  // a content-type in res.raw_headers
  std::string headers;
  std::string body;
};

enum class FastAnswer {
  kNotFast,  // nothing done, no error: render() takes the value
  kReady,    // head and body filled (views into the buffers or into `result`)
  kFailed,   // a Python error is set: `res` or the value could not be encoded (a TypeError is a
             // value render() can retry the way FastAPI's jsonable_encoder would)
};

// The answer to `result` when it is a dict, list, str, bytes, None or a JSONBody (exact types)
// and `res` (the handler's Response) has no background tasks: its status_code and raw_headers,
// its media_type as Response.content_type() gives it (text/* gains "; charset=" + res.charset)
// or JSON / text / octet-stream by the value's type (a content-type in raw_headers wins, as
// the last one render() sends), the encoded body (None: empty, no content type but one from
// raw_headers, as render() sends it).
FastAnswer fast_answer(PyObject* result, PyObject* res, AnswerBuffers& buf,
                       http::ResponseHead& head, std::string_view& body);

}  // namespace fa::py
