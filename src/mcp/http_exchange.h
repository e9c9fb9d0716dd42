// HttpExchange: one Streamable HTTP request as the MCP transport sees it, apart from the engine
// that carried it — our own http::Server, or an App that mounts the MCP server on its routes.
#pragma once

#include <functional>
#include <string_view>

namespace fa::mcp {

struct HttpRequestView {
  std::string_view method;  // "POST", "GET", "DELETE"
  std::string_view body;
  // Value of a header by lower-case name; empty when absent.
  std::function<std::string_view(std::string_view)> header;
};

// Where the answer goes. Header lines are preformatted ("Name: value\r\n"...).
class HttpResponder {
 public:
  virtual ~HttpResponder() = default;
  virtual void send(int status, std::string_view content_type, std::string_view headers,
                    std::string_view body) = 0;
  virtual void start(int status, std::string_view content_type, std::string_view headers) = 0;
  virtual void write(std::string_view chunk) = 0;
  virtual void end() = 0;
  virtual bool alive() const = 0;  // false once ended or the client is gone
  // fn() runs once when the exchange ends: answered, or the connection closed. Default: never.
  virtual void on_done(std::function<void()> fn) {}
  // fn() runs once when the client closes its side of the connection while the exchange is
  // open (or at once if it has). False when the responder cannot tell (default): the caller
  // then polls client_gone().
  virtual bool on_hangup(std::function<void()> /*fn*/) { return false; }
  // True once the client closed its side of the connection. Default: never known.
  virtual bool client_gone() const { return false; }
};

}  // namespace fa::mcp
