// Python bindings for the pg component: the submodule fasterapi._native.pg.
#include "pg_core.h"
#include "registry.h"

namespace fa::py {
void register_pg(nanobind::module_& m) {
  nanobind::module_ pg = m.def_submodule("pg", "PostgreSQL protocol core and binary codecs");
  pg::register_core(pg);
  pg::register_channel(pg);
  pg::register_pool(pg);
}
}  // namespace fa::py
