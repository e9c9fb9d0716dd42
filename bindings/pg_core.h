// pg Core: the Python-facing connection core (protocol + FIFO of pending requests + codecs).
#pragma once

#include <nanobind/nanobind.h>

namespace fa::py::pg {

// Registers Core, Statement, Record and helpers into the pg submodule.
void register_core(nanobind::module_& m);

}  // namespace fa::py::pg
