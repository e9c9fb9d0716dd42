// Python bindings for the server component (placeholder until the component lands).
#include "registry.h"

namespace fa::py {
void register_server(nanobind::module_& m) {}
}  // namespace fa::py
