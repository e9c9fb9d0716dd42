// Python bindings for the pg component (placeholder until the component lands).
#include "registry.h"

namespace fa::py {
void register_pg(nanobind::module_& m) {}
}  // namespace fa::py
