// fasterapi._native.html_rows: rows rendered through a row template, every value HTML-escaped,
// straight to UTF-8 bytes (fasterapi.html.render_rows is the public name).
#include <Python.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "registry.h"

namespace fa::py {

namespace {

// The characters html.escape(s, quote=True) replaces (HTML 5 §13.1.2.6 text and attribute
// values: &, <, > in text; " and ' inside quoted attributes).
constexpr std::string_view escape_of(char c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return "&quot;";
    case '\'':
      return "&#x27;";
    default:
      return {};
  }
}

#if defined(__SSE2__)
// Bit k set when byte k of the next min(left, 16) bytes is one of the five; a short tail is
// copied into a zeroed block first (no read past the string).
unsigned special_mask(const char* p, size_t left) {
  __m128i v;
  if (left >= 16) {
    v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  } else {
    alignas(16) char block[16] = {};
    std::memcpy(block, p, left);
    v = _mm_load_si128(reinterpret_cast<const __m128i*>(block));
  }
  __m128i hit = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('&')), _mm_cmpeq_epi8(v, _mm_set1_epi8('<'))),
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('>')),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))),
                   _mm_cmpeq_epi8(v, _mm_set1_epi8('\''))));
  return static_cast<unsigned>(_mm_movemask_epi8(hit));  // zero bytes of a tail never match
}
#endif

// Appends s escaped. UTF-8 never puts an ASCII byte inside a multi-byte sequence, so a
// byte-wise test is exact for every character; 16 bytes a step (SSE2, baseline on x86-64)
// find the next of the five, the text between is copied in one piece.
void append_escaped(std::string& out, std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t start = 0;
  size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    unsigned mask = special_mask(p + i, n - i);
    if (mask == 0) {
      i += 16;
      continue;
    }
    i += static_cast<size_t>(__builtin_ctz(mask));  // the first byte to replace
#else
    if (escape_of(p[i]).empty()) {
      ++i;
      continue;
    }
#endif
    out.append(p + start, i - start);
    out.append(escape_of(p[i]));
    start = ++i;
  }
  out.append(p + start, n - start);
}

// Appends the code points of a non-ASCII str as UTF-8 (RFC 3629 §3), the five ASCII characters
// escaped, without the UTF-8 copy PyUnicode_AsUTF8AndSize would allocate and keep on the str.
// Returns false at a surrogate (no UTF-8 form), the caller then lets CPython raise.
template <typename Ch>
bool append_ucs_escaped(std::string& out, const Ch* d, size_t n) {
  const size_t old = out.size();
  out.resize(old + n * 6);  // the widest a character gets: "&quot;"
  char* w = out.data() + old;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = d[i];
    if (c < 0x80) {
      std::string_view rep = escape_of(static_cast<char>(c));
      if (rep.empty()) {
        *w++ = static_cast<char>(c);
      } else {
        std::memcpy(w, rep.data(), rep.size());
        w += rep.size();
      }
    } else if (c < 0x800) {
      *w++ = static_cast<char>(0xC0 | (c >> 6));
      *w++ = static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      if (c >= 0xD800 && c <= 0xDFFF) {
        out.resize(old);
        return false;
      }
      *w++ = static_cast<char>(0xE0 | (c >> 12));
      *w++ = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      *w++ = static_cast<char>(0x80 | (c & 0x3F));
    } else {
      *w++ = static_cast<char>(0xF0 | (c >> 18));
      *w++ = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      *w++ = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      *w++ = static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  out.resize(static_cast<size_t>(w - out.data()));
  return true;
}

// Appends a str escaped: an ASCII one from its own buffer, others encoded here.
bool append_str(std::string& out, PyObject* s) {
#if PY_VERSION_HEX < 0x030C0000
  if (PyUnicode_READY(s) < 0) return false;  // a legacy (wstr) str gets its compact form
#endif
  const auto n = static_cast<size_t>(PyUnicode_GET_LENGTH(s));
  if (PyUnicode_IS_ASCII(s)) {
    append_escaped(out, {static_cast<const char*>(PyUnicode_DATA(s)), n});
    return true;
  }
  bool ok = false;
  switch (PyUnicode_KIND(s)) {
    case PyUnicode_1BYTE_KIND:
      ok = append_ucs_escaped(out, PyUnicode_1BYTE_DATA(s), n);
      break;
    case PyUnicode_2BYTE_KIND:
      ok = append_ucs_escaped(out, PyUnicode_2BYTE_DATA(s), n);
      break;
    default:
      ok = append_ucs_escaped(out, PyUnicode_4BYTE_DATA(s), n);
      break;
  }
  if (ok) return true;
  Py_ssize_t len = 0;  // a surrogate: CPython's encoder raises UnicodeEncodeError
  const char* p = PyUnicode_AsUTF8AndSize(s, &len);
  if (!p) return false;
  append_escaped(out, {p, static_cast<size_t>(len)});
  return true;
}

// Appends one value: str escaped, an exact int in decimal, anything else as str(v), escaped.
bool append_value(std::string& out, PyObject* v) {
  if (PyLong_CheckExact(v)) {
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (!overflow && !(n == -1 && PyErr_Occurred())) {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
      out.append(buf, static_cast<size_t>(end - buf));
      return true;
    }
    PyErr_Clear();
  }
  PyObject* s = PyUnicode_Check(v) ? (Py_INCREF(v), v) : PyObject_Str(v);
  if (!s) return false;
  bool ok = append_str(out, s);
  Py_DECREF(s);
  return ok;
}

// Splits the template at its "{}" placeholders ("{{" and "}}" stand for literal braces, as in
// str.format). Returns false with ValueError set on a lone brace or a named/numbered field.
bool parse_template(std::string_view t, std::vector<std::string>& parts) {
  parts.emplace_back();
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      parts.back().push_back('{');
      ++i;
    } else if (c == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      parts.back().push_back('}');
      ++i;
    } else if (c == '{' && i + 1 < t.size() && t[i + 1] == '}') {
      parts.emplace_back();
      ++i;
    } else if (c == '{' || c == '}') {
      PyErr_SetString(PyExc_ValueError,
                      "render_rows: the template's fields are {} only ({{ and }} for braces)");
      return false;
    } else {
      parts.back().push_back(c);
    }
  }
  return true;
}

// Appends one row: the template's literal parts with the row's first values between them.
bool append_row(std::string& out, const std::vector<std::string>& parts, PyObject* row) {
  const size_t fields = parts.size() - 1;
  const bool tuple = PyTuple_CheckExact(row);
  if (tuple && static_cast<size_t>(PyTuple_GET_SIZE(row)) < fields) {
    PyErr_Format(PyExc_IndexError, "render_rows: a row has %zd values, the template %zu fields",
                 PyTuple_GET_SIZE(row), fields);
    return false;
  }
  out.append(parts[0]);
  for (size_t f = 0; f < fields; ++f) {
    if (tuple) {
      if (!append_value(out, PyTuple_GET_ITEM(row, static_cast<Py_ssize_t>(f)))) return false;
    } else {
      PyObject* v = PySequence_GetItem(row, static_cast<Py_ssize_t>(f));
      if (!v) return false;
      bool ok = append_value(out, v);
      Py_DECREF(v);
      if (!ok) return false;
    }
    out.append(parts[f + 1]);
  }
  return true;
}

PyObject* render_rows(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2 || !PyUnicode_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError, "render_rows(template: str, rows: Iterable[Sequence])");
    return nullptr;
  }
  Py_ssize_t tn = 0;
  const char* tp = PyUnicode_AsUTF8AndSize(args[0], &tn);
  if (!tp) return nullptr;
  std::vector<std::string> parts;
  if (!parse_template({tp, static_cast<size_t>(tn)}, parts)) return nullptr;
  std::string out;
  PyObject* seq = PySequence_Fast(args[1], "render_rows: rows must be iterable");
  if (!seq) return nullptr;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  out.reserve(static_cast<size_t>(n) * (static_cast<size_t>(tn) + 48));
  PyObject** items = PySequence_Fast_ITEMS(seq);
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (!append_row(out, parts, items[i])) {
      Py_DECREF(seq);
      return nullptr;
    }
  }
  Py_DECREF(seq);
  return PyBytes_FromStringAndSize(out.data(), static_cast<Py_ssize_t>(out.size()));
}

PyMethodDef g_methods[] = {
    {"html_render_rows", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(render_rows)),
     METH_FASTCALL,
     "html_render_rows(template: str, rows: Iterable[Sequence]) -> bytes\n\nEach row through "
     "the template's {} fields, values HTML-escaped, as UTF-8."},
};

}  // namespace

void register_html(nanobind::module_& m) {
  add_methods(m, g_methods);
}

}  // namespace fa::py
