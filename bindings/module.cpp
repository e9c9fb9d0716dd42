// fasterapi._native: the extension module; each component adds its part.
#include "registry.h"

namespace {
// Runs one component's registration, naming the component if it fails.
template <typename F>
void register_part(const char* name, F&& fn, nanobind::module_& m) {
  try {
    fn(m);
  } catch (nanobind::python_error& e) {
    std::string msg = std::string("fasterapi._native: registering ") + name + " failed: " + e.what();
    throw std::runtime_error(msg);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("fasterapi._native: registering ") + name + " failed: " + e.what());
  }
}
}  // namespace

NB_MODULE(_native, m) {
  m.doc() = "FasterAPI's C++ core";
  // Servers and requests alive at interpreter exit (daemon threads, module globals) are not
  // bugs worth a page of warnings.
  nanobind::set_leak_warnings(false);
  register_part("json", fa::py::register_json, m);
  register_part("loop", fa::py::register_loop, m);
  register_part("eager", fa::py::register_eager, m);
  register_part("server", fa::py::register_server, m);
  register_part("pg", fa::py::register_pg, m);
  register_part("futures", fa::py::register_futures, m);
  register_part("mcp", fa::py::register_mcp, m);
  register_part("mcp_auth", fa::py::register_mcp_auth, m);
  register_part("mcp_client", fa::py::register_mcp_client, m);
  register_part("sse", fa::py::register_sse, m);
  register_part("multipart", fa::py::register_multipart, m);
  register_part("html", fa::py::register_html, m);
}
