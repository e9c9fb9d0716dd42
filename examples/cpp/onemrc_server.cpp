// onemrc_server: the 1 Million Request Challenge's server as C++ handlers on the engine (the
// C++ entry beside benchmarks/e2e/apps/fasterapi_app.py's Python one).
//   POST /event {"userId": "<string>", "value": <number>} → {"status":"ok"}; the body is parsed
//                 with simdjson (On-Demand); a body that is not such an object → 400, not counted
//   GET /stats  → {"totalRequests":N,"uniqueUsers":U,"sum":S,"avg":A}
// The totals are exact: one loop thread, so no lock; integer values are summed in an int64
// (no rounding however many), fractional ones in a double added at the end.
// Usage: onemrc_server [--host H] [--port N] [--loop epoll|uring|auto]
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "core/run_until_signal.h"
#include "http/server.h"
#include "json/double_format.h"

namespace {
// The set of userIds seen: open addressing with the hash and (up to 22 bytes) the id itself in
// the slot, two slots to a cache line. Over 1,000 connections and 100,000 ids each lookup is a
// cache miss; std::unordered_set<std::string> takes two (the bucket, then the node) and
// allocates a node per new id. Longer ids live in `long_ids_` and the slot holds their index.
class UserSet {
 public:
  UserSet() : slots_(kInitialSlots) {}

  // Adds id; true when it was not there yet.
  bool insert(std::string_view id) {
    uint64_t h = std::hash<std::string_view>{}(id) | 1;  // 0 marks an empty slot
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.hash == 0) {
        put(s, h, id);
        if (++size_ * 2 > slots_.size()) grow();
        return true;
      }
      if (s.hash == h && key(s) == id) return false;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr size_t kInitialSlots = 1024;  // a power of two
  static constexpr size_t kInline = 22;
  struct Slot {
    uint64_t hash = 0;
    uint8_t len = 0;  // kLong: the id is long_ids_[index]
    char bytes[kInline + 1] = {};
  };
  static_assert(sizeof(Slot) == 32);
  static constexpr uint8_t kLong = 0xff;

  std::string_view key(const Slot& s) const {
    if (s.len != kLong) return {s.bytes, s.len};
    uint32_t index;
    std::memcpy(&index, s.bytes, sizeof index);
    return long_ids_[index];
  }
  void put(Slot& s, uint64_t h, std::string_view id) {
    s.hash = h;
    if (id.size() <= kInline) {
      s.len = static_cast<uint8_t>(id.size());
      if (!id.empty()) std::memcpy(s.bytes, id.data(), id.size());
    } else {
      s.len = kLong;
      auto index = static_cast<uint32_t>(long_ids_.size());
      long_ids_.emplace_back(id);
      std::memcpy(s.bytes, &index, sizeof index);
    }
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.hash == 0) continue;
      size_t i = s.hash & mask;
      while (slots_[i].hash != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  std::vector<std::string> long_ids_;
};

class Totals {
 public:
  // Parses one event body and counts it; false (nothing counted) when it is not an object with
  // a string userId and a numeric value.
  bool add(std::string_view body) {
    if (buf_.size() < body.size() + simdjson::SIMDJSON_PADDING)
      buf_.resize(body.size() + simdjson::SIMDJSON_PADDING);
    if (!body.empty()) std::memcpy(buf_.data(), body.data(), body.size());
    simdjson::padded_string_view padded(buf_.data(), body.size(), buf_.size());
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser_.iterate(padded).get(doc) || doc.get_object().get(obj)) return false;
    std::string_view user;
    bool have_user = false, have_value = false;
    int64_t int_value = 0;
    double frac_value = 0;
    bool is_int = false;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return false;
      if (key == "userId") {
        if (field.value().get_string().get(user)) return false;
        have_user = true;
      } else if (key == "value") {
        simdjson::ondemand::number n;
        if (field.value().get_number().get(n)) return false;
        if (n.is_int64()) {
          int_value = n.get_int64();
          is_int = true;
        } else if (n.is_uint64()) {
          frac_value = static_cast<double>(n.get_uint64());
        } else {
          frac_value = n.get_double();
        }
        have_value = true;
      }
    }
    if (!have_user || !have_value) return false;
    ++count_;
    if (is_int)
      int_sum_ += int_value;
    else
      frac_sum_ += frac_value;
    users_.insert(user);
    return true;
  }

  std::string stats() const {
    std::string out = "{\"totalRequests\":" + std::to_string(count_) +
                      ",\"uniqueUsers\":" + std::to_string(users_.size()) + ",\"sum\":";
    double sum = static_cast<double>(int_sum_) + frac_sum_;
    if (frac_sum_ == 0)
      out += std::to_string(int_sum_);
    else
      append_double(out, sum);
    out += ",\"avg\":";
    append_double(out, count_ ? sum / static_cast<double>(count_) : 0.0);
    out += '}';
    return out;
  }

 private:
  static void append_double(std::string& out, double v) {
    char buf[fa::json::kMaxDoubleChars];
    out.append(buf, fa::json::format_double(v, buf));
  }

  simdjson::ondemand::parser parser_;
  std::string buf_;  // the padded copy simdjson reads (it may read past the body's end)
  uint64_t count_ = 0;
  int64_t int_sum_ = 0;
  double frac_sum_ = 0;
  UserSet users_;
};
}  // namespace

int main(int argc, char** argv) {
  fa::http::ServerConfig cfg;
  fa::LoopBackend backend = fa::default_loop_backend();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--host" && i + 1 < argc) {
      cfg.host = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      cfg.port = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else if (a == "--loop" && i + 1 < argc && fa::parse_loop_backend(argv[i + 1], &backend)) {
      ++i;
    } else {
      std::fprintf(stderr, "usage: %s [--host H] [--port N] [--loop epoll|uring|auto]\n", argv[0]);
      return 2;
    }
  }

  fa::EventLoop loop(backend);
  fa::http::Server server(loop, cfg);
  Totals totals;
  using fa::http::Request;
  using fa::http::Response;

  server.route("POST", "/event", [&totals](Request& req, Response& res) {
    if (totals.add(req.body))
      res.json(R"({"status":"ok"})");
    else
      res.json(R"({"detail":"expected {\"userId\": string, \"value\": number}"})", 400);
  });
  server.route("GET", "/stats", [&totals](Request&, Response& res) { res.json(totals.stats()); });

  uint16_t port = 0;
  try {
    port = server.listen();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onemrc_server: %s\n", e.what());
    return 1;
  }
  std::printf("onemrc_server listening on %s:%u (%s)\n", cfg.host.c_str(), port,
              fa::loop_backend_name(loop.backend()));
  std::fflush(stdout);
  fa::run_until_signal(loop);
  return 0;
}
