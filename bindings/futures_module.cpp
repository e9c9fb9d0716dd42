// Python bindings for the futures component (placeholder until the component lands).
#include "registry.h"

namespace fa::py {
void register_futures(nanobind::module_& m) {}
}  // namespace fa::py
