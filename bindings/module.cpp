// fasterapi._native: the extension module; each component adds its part.
#include "registry.h"

NB_MODULE(_native, m) {
  m.doc() = "FasterAPI's C++ core";
  fa::py::register_json(m);
  fa::py::register_server(m);
  fa::py::register_pg(m);
  fa::py::register_futures(m);
}
