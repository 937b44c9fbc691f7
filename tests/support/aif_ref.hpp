#pragma once
// AIF-MP planning with θ fixed (aif-mp.md §3–4) written literally in float64: dense arrays, the
// spec's loops in the spec's order, no shortcuts. The reference for the planner's optimised
// CPU paths (tests/unit/test_aif_reference.cpp).
#include <vector>

#include <mpe/aif.hpp>

namespace mpe::test {

struct AifRefPlan {
  std::vector<double> action_dist;  // [A]
  std::vector<double> q_u;          // [H, A]
  std::vector<double> log_r_x;      // [H, S_old, S_new, A]
  std::vector<double> log_r_c;      // [H+1, F, O, S, K] (dense observation path only)
};

AifRefPlan reference_plan(const aif::Model& model, const aif::PlanRequest& request);

}  // namespace mpe::test
