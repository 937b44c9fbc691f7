#pragma once
// Planning with θ as a loopy variable: the published baselines bp, vbp and rm
// (aif-mp-baselines.md). The θ-fixed planner (planner.cpp) hands such groups over here.
#include <vector>

#include <mpe/aif.hpp>

namespace mpe::aif::loopy {

// Plans requests [begin, end) of one option group (all with theta == loopy, checked requests)
// and writes out[begin, end).
void plan_group(const std::vector<const Model*>& models,
                      const std::vector<PlanRequest>& requests, std::size_t begin, std::size_t end,
                      std::vector<Plan>& out, Device device);

}  // namespace mpe::aif::loopy
