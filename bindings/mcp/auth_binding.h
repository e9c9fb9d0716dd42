// What other bindings need of bindings/mcp/auth_binding.cpp.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>

#include "mcp/auth/jwt_verifier.h"

namespace fa::py {

// The C++ verifier behind a fasterapi._native.JwtVerifier (TypeError for anything else).
std::shared_ptr<const mcp::auth::JwtVerifier> jwt_verifier_of(nanobind::handle obj);

}  // namespace fa::py
