// The seven TFB test types as C++ handlers on http::Server, querying PostgreSQL through
// fa::pg::Pool on the same EventLoop (handlers detach their response and answer from the
// query's continuation; nothing blocks the loop).
#pragma once

#include <cstdint>
#include <vector>

#include "core/future.h"
#include "http/server.h"
#include "pg/pg_pool.h"

namespace tfb {

// randomNumber by id (index 0 unused): the cached-queries test's in-memory World cache.
using WorldCache = std::vector<int32_t>;

// Reads every World row once (at startup, before the server listens).
fa::future<WorldCache> load_cache(fa::pg::Pool& pool);

// GET /json, /plaintext, /db, /queries?queries=, /fortunes, /updates?queries=,
// /cached-queries?count=. `pool` and `cache` must outlive the server.
void add_routes(fa::http::Server& server, fa::pg::Pool& pool, const WorldCache& cache);

}  // namespace tfb
