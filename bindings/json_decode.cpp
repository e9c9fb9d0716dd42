// JSON parser into Python objects (see json_decode.h): simdjson's DOM parser on a padded copy,
// then one walk of the tape building dicts, lists and scalars.
// nanobind builds the extension with -Os; this file is a hot path, so it asks for -O3.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include "json_decode.h"

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

namespace fa::py {
namespace {

namespace dom = simdjson::dom;

// Documents up to this size reuse a thread's parser and padded buffer; bigger ones get their
// own, freed afterwards, so one 100 MB body does not pin 100 MB per thread.
constexpr std::size_t kRetainedDocumentBytes = 1 << 20;  // 1 MiB

// Keys up to this length are cached as str objects (orjson does the same): repeated keys in
// arrays of objects then cost a table probe instead of an allocation, and reuse the str's hash.
constexpr std::size_t kMaxCachedKeyBytes = 64;
constexpr std::size_t kKeyCacheSlots = 2048;  // power of two

struct PaddedBuffer {
  std::unique_ptr<char[]> data;
  std::size_t capacity = 0;  // bytes before the padding

  // Copies text followed by SIMDJSON_PADDING zero bytes; returns the copy.
  const char* assign(std::string_view text) {
    if (text.size() > capacity) {
      std::size_t cap = std::max<std::size_t>(text.size(), 4096);
      data.reset(new char[cap + simdjson::SIMDJSON_PADDING]);
      capacity = cap;
    }
    std::memcpy(data.get(), text.data(), text.size());
    std::memset(data.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    return data.get();
  }
};

struct ThreadState {
  dom::parser parser;
  PaddedBuffer buffer;
  // Building objects can run a garbage collection, whose finalizers may call json_loads on
  // this thread while we still walk the parser's tape: such a nested call gets its own parser.
  bool busy = false;
};

PyObject* g_key_cache[kKeyCacheSlots];  // strong references; the GIL guards the table

inline std::uint32_t key_hash(std::string_view k) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : k) h = (h ^ c) * 16777619u;
  return h;
}

bool is_ascii(std::string_view s) {
  unsigned char acc = 0;
  for (unsigned char c : s) acc |= c;
  return acc < 0x80;
}

PyObject* make_str(std::string_view s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
}

PyObject* make_key(std::string_view k) {
  if (k.size() > kMaxCachedKeyBytes || !is_ascii(k)) return make_str(k);
  PyObject*& slot = g_key_cache[key_hash(k) & (kKeyCacheSlots - 1)];
  if (slot && static_cast<std::size_t>(PyUnicode_GET_LENGTH(slot)) == k.size() &&
      std::memcmp(PyUnicode_DATA(slot), k.data(), k.size()) == 0) {
    Py_INCREF(slot);
    return slot;
  }
  PyObject* s = PyUnicode_New(static_cast<Py_ssize_t>(k.size()), 127);
  if (!s) return nullptr;
  std::memcpy(PyUnicode_DATA(s), k.data(), k.size());
  Py_INCREF(s);
  Py_XSETREF(slot, s);
  return s;
}

// Builds Python objects from simdjson's tape (format: simdjson doc/tape.md). Each 64-bit word
// has its type character in the top byte and a 56-bit payload; numbers take a second word.
// Walking the tape directly avoids the element API's per-value bookkeeping.
class TapeReader {
 public:
  explicit TapeReader(const dom::document& doc)
      : tape_(doc.tape.get()), strings_(doc.string_buf.get()) {}

  // Converts the document's root value (the word after the root marker).
  PyObject* root() {
    std::size_t i = 1;
    return value(i);
  }

 private:
  static constexpr std::uint64_t kPayloadMask = 0x00FFFFFFFFFFFFFF;  // low 56 bits
  static constexpr std::uint32_t kCountSaturated = 0xFFFFFF;         // 24-bit element count

  std::string_view string_at(std::uint64_t word) const {
    const std::uint8_t* p = strings_ + (word & kPayloadMask);
    std::uint32_t len;
    std::memcpy(&len, p, sizeof len);
    return {reinterpret_cast<const char*>(p + sizeof len), len};
  }

  // Converts the value at tape_[i] and moves i past it.
  PyObject* value(std::size_t& i) {
    const std::uint64_t w = tape_[i];
    switch (static_cast<char>(w >> 56)) {
      case '{':
        return object(i, w);
      case '[':
        return array(i, w);
      case '"':
        ++i;
        return make_str(string_at(w));
      case 'l': {
        std::int64_t v;
        std::memcpy(&v, &tape_[i + 1], sizeof v);
        i += 2;
        return PyLong_FromLongLong(v);
      }
      case 'u': {
        std::uint64_t v = tape_[i + 1];
        i += 2;
        return PyLong_FromUnsignedLongLong(v);
      }
      case 'd': {
        double v;
        std::memcpy(&v, &tape_[i + 1], sizeof v);
        i += 2;
        return PyFloat_FromDouble(v);
      }
      case 't':
        ++i;
        return Py_NewRef(Py_True);
      case 'f':
        ++i;
        return Py_NewRef(Py_False);
      case 'n':
        ++i;
        return Py_NewRef(Py_None);
      default:
        PyErr_Format(PyExc_SystemError, "json_decode: unexpected tape word at %zu", i);
        return nullptr;
    }
  }

  // '{' payload: low 32 bits index the word after the matching '}'.
  PyObject* object(std::size_t& i, std::uint64_t w) {
    const std::size_t close = static_cast<std::uint32_t>(w) - 1;
    PyObject* dict = PyDict_New();
    if (!dict) return nullptr;
    ++i;
    while (i < close) {
      PyObject* k = make_key(string_at(tape_[i]));
      ++i;
      PyObject* v = k ? value(i) : nullptr;
      int rc = v ? PyDict_SetItem(dict, k, v) : -1;  // a later duplicate replaces, as json.loads
      Py_XDECREF(k);
      Py_XDECREF(v);
      if (rc < 0) {
        Py_DECREF(dict);
        return nullptr;
      }
    }
    i = close + 1;
    return dict;
  }

  // '[' payload: low 32 bits as for '{', then a 24-bit element count (saturated).
  PyObject* array(std::size_t& i, std::uint64_t w) {
    const std::size_t close = static_cast<std::uint32_t>(w) - 1;
    const std::uint32_t count = static_cast<std::uint32_t>(w >> 32) & kCountSaturated;
    const bool sized = count < kCountSaturated;
    PyObject* list = PyList_New(sized ? count : 0);
    if (!list) return nullptr;
    ++i;
    for (Py_ssize_t n = 0; i < close; ++n) {
      PyObject* v = value(i);
      if (!v) {
        Py_DECREF(list);
        return nullptr;
      }
      if (sized && n < static_cast<Py_ssize_t>(count)) {
        PyList_SET_ITEM(list, n, v);
      } else if (sized) {
        Py_DECREF(v);
        Py_DECREF(list);
        PyErr_SetString(PyExc_SystemError, "json_decode: array longer than its tape count");
        return nullptr;
      } else {
        int rc = PyList_Append(list, v);
        Py_DECREF(v);
        if (rc < 0) {
          Py_DECREF(list);
          return nullptr;
        }
      }
    }
    i = close + 1;
    return list;
  }

  const std::uint64_t* tape_;
  const std::uint8_t* strings_;
};

// Adds "(byte N)" to a json.JSONDecodeError raised by json.loads; N counts UTF-8 bytes of
// the document before the error position.
void add_byte_position() {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject* msg = value ? PyObject_GetAttrString(value, "msg") : nullptr;
  PyObject* doc = msg ? PyObject_GetAttrString(value, "doc") : nullptr;
  PyObject* pos = doc ? PyObject_GetAttrString(value, "pos") : nullptr;
  Py_ssize_t char_pos = pos ? PyLong_AsSsize_t(pos) : -1;
  PyObject* prefix = (doc && PyUnicode_Check(doc) && char_pos >= 0)
                         ? PyUnicode_Substring(doc, 0, char_pos)
                         : nullptr;
  PyObject* encoded =
      prefix ? PyUnicode_AsEncodedString(prefix, "utf-8", "surrogatepass") : nullptr;
  PyObject* replacement = nullptr;
  if (encoded) {
    PyObject* new_msg = PyUnicode_FromFormat("%U (byte %zd)", msg, PyBytes_GET_SIZE(encoded));
    if (new_msg) {
      replacement = PyObject_CallFunction(type, "OOn", new_msg, doc, char_pos);
      Py_DECREF(new_msg);
    }
  }
  Py_XDECREF(msg);
  Py_XDECREF(doc);
  Py_XDECREF(pos);
  Py_XDECREF(prefix);
  Py_XDECREF(encoded);
  if (replacement) {
    PyErr_Clear();
    PyErr_SetObject(type, replacement);
    Py_DECREF(replacement);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return;
  }
  PyErr_Clear();
  PyErr_Restore(type, value, tb);  // could not improve it: keep json.loads's own error
}

// The cold path: json.loads decides what simdjson refused.
PyObject* fallback_loads(std::string_view text, PyObject* original) {
  PyObject* json = PyImport_ImportModule("json");
  if (!json) return nullptr;
  PyObject* loads = PyObject_GetAttrString(json, "loads");
  PyObject* decode_error = PyObject_GetAttrString(json, "JSONDecodeError");
  Py_DECREF(json);
  PyObject* arg = original ? Py_NewRef(original)
                           : PyBytes_FromStringAndSize(text.data(),
                                                       static_cast<Py_ssize_t>(text.size()));
  PyObject* result = (loads && decode_error && arg) ? PyObject_CallOneArg(loads, arg) : nullptr;
  if (!result && decode_error && PyErr_ExceptionMatches(decode_error)) add_byte_position();
  Py_XDECREF(arg);
  Py_XDECREF(loads);
  Py_XDECREF(decode_error);
  return result;
}

PyObject* parse_with(dom::parser& parser, const char* padded, std::string_view text,
                     PyObject* original) {
  auto doc = parser.parse(padded, text.size(), /*realloc_if_needed=*/false);
  if (doc.error()) return fallback_loads(text, original);
  return TapeReader(parser.doc).root();
}

}  // namespace

PyObject* json_decode_with_fallback(std::string_view text, PyObject* original) {
  try {
    static thread_local ThreadState state;
    if (text.size() <= kRetainedDocumentBytes && !state.busy) {
      struct Busy {
        bool& flag;
        explicit Busy(bool& f) : flag(f) { flag = true; }
        ~Busy() { flag = false; }
      } busy(state.busy);
      return parse_with(state.parser, state.buffer.assign(text), text, original);
    }
    PaddedBuffer buffer;
    dom::parser parser;
    return parse_with(parser, buffer.assign(text), text, original);
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  }
}

PyObject* json_decode(std::string_view text) { return json_decode_with_fallback(text, nullptr); }

}  // namespace fa::py
