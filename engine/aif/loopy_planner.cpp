// Loopy-θ baselines (aif-mp-baselines.md): not implemented yet.
#include "aif/loopy_planner.hpp"

#include <mpe/error.hpp>

namespace mpe::aif::loopy {

void plan_group(const std::vector<const Model*>&, const std::vector<PlanRequest>&,
                      std::size_t, std::size_t, std::vector<Plan>&, Device) {
  throw Error(ErrorCode::not_supported,
              "theta 'loopy' (the published bp/vbp/rm baselines) is not implemented yet; "
              "use theta 'fixed'");
}

}  // namespace mpe::aif::loopy
