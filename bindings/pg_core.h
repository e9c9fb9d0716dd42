// pg Core: the Python-facing connection core (protocol + FIFO of pending requests + codecs).
#pragma once

#include <nanobind/nanobind.h>

#include <string>
#include <string_view>

namespace fa::py::pg {

// Registers Core, Statement, Record and helpers into the pg submodule.
void register_core(nanobind::module_& m);

// For the native channel (pg_channel.cpp), which drives a Core from C++.
bool is_core(nanobind::handle core);
// Feeds received bytes; on_result(ctx, result) per completed request, in request order (a
// result is the value or the exception instance).
void core_feed(nanobind::handle core, std::string_view data,
               void (*on_result)(void*, nanobind::object), void* ctx);
// The bytes queued for sending (the caller sends and clears them).
std::string& core_out(nanobind::handle core);
bool core_broken(nanobind::handle core);
std::string core_error(nanobind::handle core);
// Whether h is a prepared Statement (a cache entry ready for Bind).
bool is_statement(nanobind::handle h);
// Core.execute: Bind + Execute + Sync of stmt with args, its result shaped by mode (MODE_*).
void core_execute(nanobind::handle core, nanobind::handle stmt, nanobind::handle args, int mode);
// Core.execute_many: Bind + Execute per argument sequence of arg_rows (an iterable), one Sync;
// mode MODE_STATUS (result None) or MODE_FETCHMANY (all rows in one list); MODE_FETCHROW_EACH:
// a Sync per sequence instead (independent queries, one request), result the first rows (or
// None) as a list, or a tuple with each failed query's error in its place when any failed.
void core_execute_many(nanobind::handle core, nanobind::handle stmt, nanobind::handle arg_rows,
                       int mode);
// Drops every pending request; each one's server error or None, in order.
nanobind::list core_abort(nanobind::handle core);

// Registers Channel (pg_channel.cpp); its Loop is fasterapi._native.Loop (core/py_loop.h).
void register_channel(nanobind::module_& m);
// Registers PoolCore and Query: the pooled query fast path (pg_pool.cpp).
void register_pool(nanobind::module_& m);

}  // namespace fa::py::pg
