#pragma once
// What the planner derives from a model's T once and shares between every copy of the model
// (Model::with_goal included): T's support as CSR over (x_old, u) -> x_new and its transpose.
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include <mpe/aif.hpp>
#include <mpe/tensor.hpp>

namespace mpe::aif {

// A model's dynamics on one CUDA device: uploaded on first use, kept while any copy of the model
// lives (so planning calls and the scheduler's batches reuse them).
struct DeviceDynamics {
  Tensor T, B, pu;
  Tensor sp_off, sp_n, sp_ou, in_off, in_e;  // the support, once a sparse call needs it
};

struct ModelSupport {
  // Entries e of (o, u) are off[o*A+u] .. off[o*A+u+1], with target n[e] and ou[e] = o*A+u;
  // in_e[in_off[x] .. in_off[x+1]] lists the entries whose target is x, in increasing e.
  std::vector<std::int32_t> off, n, ou, in_off, in_e;
  double density = 1.0;  // nnz / (S·S·A)
  std::int64_t nnz() const { return static_cast<std::int64_t>(n.size()); }

  std::once_flag computed;

  std::mutex device_mu;
  std::map<Device, DeviceDynamics> on_device;  // by device (kind and index)
};

// The support of m's T, computed on first use (thread-safe).
const ModelSupport& model_support(const Model& m);

// m's T, B and action prior (and the support when `sparse`) on `dev`, uploaded on first use
// (thread-safe; the reference stays valid while m or a copy of it lives).
const DeviceDynamics& device_dynamics(const Model& m, Device dev, bool sparse);

}  // namespace mpe::aif
