#pragma once
/// @file bioelectric.hpp
/// Bioelectric networks: cells joined by gap junctions, voltage diffusing along them.
///
///     V_i ← V_i + dt · ( Σ_j g_ij (V_j − V_i) + leak · (v_rest − V_i) )
///
/// for every cell that is not clamped (clamped cells keep their voltage), explicit Euler, all
/// cells updated from the previous step's voltages. Row i of the CSR lists cell i's junctions,
/// its weights are the conductances g_ij (1 when unweighted). With a symmetric graph, no leak and
/// no clamps the total Σ_i V_i is conserved. Explicit Euler is stable while
/// dt · (max_i Σ_j g_ij + leak) <= 1/2 or so; nothing checks this for you.
#include <cstdint>
#include <vector>

#include <mpe/graph.hpp>
#include <mpe/tensor.hpp>

namespace mpe::bio {

/// Parameters of the diffusion.
struct DiffusionParams {
  float dt = 0.1f;      ///< time step (> 0)
  float leak = 0.0f;    ///< leak conductance toward v_rest (>= 0; 0 = none)
  float v_rest = 0.0f;  ///< resting potential
};

/// Runs `steps` Euler steps in place on `voltage` (float32 [num_cells], on the graph's device).
/// `clamped` is empty or one flag per cell (non-zero = held at its current voltage). Throws
/// Error naming the argument for a non-square graph, wrong shapes or devices, dt <= 0, a
/// negative leak, non-finite parameters or negative conductances (host graphs); voltage is
/// untouched then.
void diffuse(const Csr& junctions, Tensor& voltage, const DiffusionParams& params,
             std::int64_t steps, const std::vector<std::uint8_t>& clamped = {});

/// A rows × cols sheet of cells, each joined to its 4 neighbours with conductance g (cell
/// (r, c) is index r · cols + c): a symmetric CSR on the host (unweighted when g == 1).
Csr grid_junctions(std::int64_t rows, std::int64_t cols, float g = 1.0f);

}  // namespace mpe::bio
