// CPU AIF-MP planning: the shared core (kernels/common/aif_core.hpp) with plain loops, one
// problem per OpenMP thread.
#include <vector>

#include "aif_plan.hpp"
#include "common/aif_core.hpp"

namespace mpe::kernels {

namespace {
struct SerialExec {
  template <class F>
  void for_each(std::int64_t n, const F& f) const {
    for (std::int64_t i = 0; i < n; ++i) f(i);
  }
  float max_all(float v) const { return v; }
};
}  // namespace

std::int64_t aif_workspace_floats(const AifConfig& cfg) { return AifLayout(cfg).total; }

void aif_plan_cpu(const AifConfig& cfg, const AifProblem* problems, std::int64_t count) {
  const std::int64_t ws = aif_workspace_floats(cfg);
#pragma omp parallel if (count > 1)
  {
    std::vector<float> workspace(static_cast<std::size_t>(ws));
    const SerialExec exec;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t i = 0; i < count; ++i) {
      AifCore<SerialExec>(cfg, problems[i], workspace.data(), exec).run();
    }
  }
}

}  // namespace mpe::kernels
