#pragma once
// What the planner derives from a model's T once and shares between every copy of the model
// (Model::with_goal included): T's support as CSR over (x_old, u) -> x_new and its transpose.
#include <cstdint>
#include <mutex>
#include <vector>

#include <mpe/aif.hpp>

namespace mpe::aif {

struct ModelSupport {
  // Entries e of (o, u) are off[o*A+u] .. off[o*A+u+1], with target n[e] and ou[e] = o*A+u;
  // in_e[in_off[x] .. in_off[x+1]] lists the entries whose target is x, in increasing e.
  std::vector<std::int32_t> off, n, ou, in_off, in_e;
  double density = 1.0;  // nnz / (S·S·A)
  std::int64_t nnz() const { return static_cast<std::int64_t>(n.size()); }

  std::once_flag computed;
};

// The support of m's T, computed on first use (thread-safe).
const ModelSupport& model_support(const Model& m);

}  // namespace mpe::aif
