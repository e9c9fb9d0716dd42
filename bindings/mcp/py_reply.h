// fasterapi._native.McpReply: answers one MCP request from Python (async tools, Context).
#pragma once

#include <nanobind/nanobind.h>

#include "mcp/reply.h"

namespace fa::py {

struct PyReply {
  mcp::Reply reply;
};

void register_mcp_reply(nanobind::module_& m);

}  // namespace fa::py
