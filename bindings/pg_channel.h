// pg Channel accessors for the pool's fast path (pg_pool.cpp): the pool picks a connection and
// queues a request on it without a Python call per query.
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>

namespace fa::py::pg {

// Whether h is a pg Channel (pg_channel.cpp).
bool is_channel(nanobind::handle h);
// Requests in flight (waiting for their result).
size_t channel_pending(nanobind::handle ch);
// A timed-out query is being cancelled: requests queued now are held until that is done.
bool channel_cancelling(nanobind::handle ch);
// The connection has ended.
bool channel_lost(nanobind::handle ch);
// Channel.request(): the future for the request just queued in the core (sent at the end of
// this loop turn); raises PgConnectionError once the connection is lost.
nanobind::object channel_request(nanobind::handle ch);

}  // namespace fa::py::pg
