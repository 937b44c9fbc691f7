// CPU loopy-θ baselines (aif-mp-baselines.md): the core of common/aif_loopy_core.hpp with plain
// loops, one problem per OpenMP thread, each thread with its own workspace.
#include <vector>

#include "aif_loopy.hpp"
#include "common/aif_loopy_core.hpp"

namespace mpe::kernels {

namespace {
struct SerialExec {
  template <class F>
  void for_each(std::int64_t n, const F& f) const {
    for (std::int64_t i = 0; i < n; ++i) f(i);
  }
};
}  // namespace

std::int64_t aif_loopy_workspace_doubles(const AifLoopyConfig& cfg) {
  return loopy::Layout(cfg).total;
}

std::int64_t aif_loopy_workspace_ints(const AifLoopyConfig& cfg) { return 2 * cfg.nnz; }

void aif_loopy_cpu(const AifLoopyConfig& cfg, const AifLoopyProblem* problems, std::int64_t count) {
  const auto ws_size = static_cast<std::size_t>(aif_loopy_workspace_doubles(cfg));
  const auto iws_size = static_cast<std::size_t>(aif_loopy_workspace_ints(cfg));
#pragma omp parallel if (count > 1)
  {
    std::vector<double> ws(ws_size);
    std::vector<std::int32_t> iws(iws_size);
    const SerialExec exec;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t i = 0; i < count; ++i) {
      AifLoopyCore<SerialExec>(cfg, problems[i], ws.data(), iws.data(), exec).run();
    }
  }
}

}  // namespace mpe::kernels
