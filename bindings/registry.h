// Each component's bindings register themselves into the module through one function here.
#pragma once

#include <nanobind/nanobind.h>

namespace fa::py {
void register_json(nanobind::module_& m);    // json_module.cpp: dumps/loads
void register_server(nanobind::module_& m);  // server_module.cpp: Server, Request, Responder
void register_pg(nanobind::module_& m);      // pg_module.cpp: PostgreSQL protocol core
void register_futures(nanobind::module_& m); // futures_module.cpp: C++ futures as awaitables
void register_mcp(nanobind::module_& m);      // mcp/mcp_server_module.cpp: McpServer, McpReply
void register_mcp_auth(nanobind::module_& m); // mcp/auth_binding.cpp: JwtVerifier, TokenError
void register_mcp_client(nanobind::module_& m);  // mcp/client_module.cpp: client-side parsers
void register_multipart(nanobind::module_& m);  // multipart/multipart_module.cpp: form-data
void register_sse(nanobind::module_& m);  // sse/event_stream_module.cpp: EventStream, negotiate
}  // namespace fa::py
