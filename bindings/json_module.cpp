// Python bindings for the json component (placeholder until the component lands).
#include "registry.h"

namespace fa::py {
void register_json(nanobind::module_& m) {}
}  // namespace fa::py
