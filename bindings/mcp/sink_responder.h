// The Python side of an MCP exchange mounted into an App (McpServer and McpProxy alike):
// sink.send(status, content_type, headers, body), sink.start(status, content_type, headers),
// sink.write(chunk), sink.end(); headers are preformatted "Name: value\r\n" lines. Errors in
// the sink are reported, not raised.
#pragma once

#include <nanobind/nanobind.h>

#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "mcp/http_transport.h"

namespace fa::py {

class SinkResponder final : public mcp::HttpResponder {
 public:
  explicit SinkResponder(nanobind::object sink) : sink_(std::move(sink)) {}
  void send(int status, std::string_view ctype, std::string_view headers,
            std::string_view body) override {
    guard([&] {
      sink_.attr("send")(status, nanobind::str(ctype.data(), ctype.size()),
                         nanobind::str(headers.data(), headers.size()),
                         nanobind::bytes(body.data(), body.size()));
    });
    finish();
  }
  void start(int status, std::string_view ctype, std::string_view headers) override {
    guard([&] {
      sink_.attr("start")(status, nanobind::str(ctype.data(), ctype.size()),
                          nanobind::str(headers.data(), headers.size()));
    });
  }
  void write(std::string_view chunk) override {
    guard([&] { sink_.attr("write")(nanobind::bytes(chunk.data(), chunk.size())); });
  }
  void end() override {
    guard([&] { sink_.attr("end")(); });
    finish();
  }
  bool alive() const override { return !ended_ && !gone_; }
  // The App's engine does not tell the transport its client left: the endpoint notices
  // (fasterapi/mcp/_mount.py) and calls sink.hang_up(), which runs these callbacks — the
  // pending call is cancelled as on our own listener.
  void on_done(std::function<void()> fn) override {
    if (ended_ || gone_) return;
    done_.push_back(std::move(fn));
  }
  bool client_gone() const override { return gone_; }
  void hang_up() {
    if (ended_ || gone_) return;
    gone_ = true;
    auto fns = std::move(done_);
    for (auto& fn : fns) fn();
  }

 private:
  void finish() {
    ended_ = true;
    auto dropped = std::move(done_);  // answered: nothing left to cancel
  }
  template <typename F>
  void guard(F&& fn) {
    try {
      fn();
    } catch (nanobind::python_error& e) {
      e.discard_as_unraisable("fasterapi MCP mounted exchange");
    }
  }
  nanobind::object sink_;
  std::vector<std::function<void()>> done_;
  bool ended_ = false, gone_ = false;
};

// A responder for a mounted exchange's sink, and the sink's hang_up(): the endpoint calls it
// once the App's engine reports the client gone (ResponseHandle::client_gone).
inline std::shared_ptr<SinkResponder> bind_sink(nanobind::object sink) {
  auto res = std::make_shared<SinkResponder>(sink);
  sink.attr("hang_up") = nanobind::cpp_function([weak = std::weak_ptr<SinkResponder>(res)] {
    if (auto r = weak.lock()) r->hang_up();
  });
  return res;
}

}  // namespace fa::py
