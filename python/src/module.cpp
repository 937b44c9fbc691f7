// The extension module mpengine._mpengine; the package mpengine (python/mpengine) wraps it.
#include "bindings.hpp"

NB_MODULE(_mpengine, m) {
  m.doc() = "mpengine's compiled core: bindings over libmpengine (use the mpengine package)";
  m.attr("__version__") = MPE_VERSION_STRING;
  mpe::py::bind_errors(m);
  mpe::py::bind_info(m);
  mpe::py::bind_aif(m);
  mpe::py::bind_agents(m);
  mpe::py::bind_graph(m);
  mpe::py::bind_gnn(m);
  mpe::py::bind_bp(m);
  mpe::py::bind_attention(m);
  mpe::py::bind_relevance(m);
  mpe::py::bind_engine(m);
  mpe::py::bind_bench(m);
}
