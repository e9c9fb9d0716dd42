// Each component's bindings register themselves into the module through one function here.
#pragma once

#include <nanobind/nanobind.h>

#include <span>

namespace fa::py {
// Adds plain CPython functions (METH_FASTCALL / METH_O: no nanobind call overhead on hot
// paths) to module m; the defs must outlive the module (static tables).
inline void add_methods(nanobind::module_& m, std::span<PyMethodDef> defs) {
  PyObject* module = m.ptr();
  PyObject* name = PyModule_GetNameObject(module);
  if (!name) throw nanobind::python_error();
  for (PyMethodDef& def : defs) {
    PyObject* fn = PyCFunction_NewEx(&def, nullptr, name);
    if (!fn || PyModule_AddObject(module, def.ml_name, fn) < 0) {
      Py_XDECREF(fn);
      Py_DECREF(name);
      throw nanobind::python_error();
    }
  }
  Py_DECREF(name);
}

void register_json(nanobind::module_& m);      // json_module.cpp: dumps/loads
void register_loop(nanobind::module_& m);      // core/loop_module.cpp: Loop (EventLoop in asyncio)
void register_eager(nanobind::module_& m);     // core/eager_spawner.cpp: EagerSpawner (3.11)
void register_server(nanobind::module_& m);    // server_module.cpp: Server, Request, Responder
void register_pg(nanobind::module_& m);        // pg_module.cpp: PostgreSQL protocol core
void register_futures(nanobind::module_& m);   // futures_module.cpp: C++ futures as awaitables
void register_mcp(nanobind::module_& m);       // mcp/mcp_server_module.cpp: McpServer, McpReply
void register_mcp_auth(nanobind::module_& m);  // mcp/auth_binding.cpp: JwtVerifier, TokenError
void register_mcp_client(nanobind::module_& m);  // mcp/client_module.cpp: client-side parsers
void register_multipart(nanobind::module_& m);   // multipart/multipart_module.cpp: form-data
void register_sse(nanobind::module_& m);   // sse/event_stream_module.cpp: EventStream, negotiate
void register_html(nanobind::module_& m);  // html_module.cpp: html_render_rows
}  // namespace fa::py
