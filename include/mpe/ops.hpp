#pragma once
/// @file ops.hpp
/// The engine's building-block ops. Each runs on the device its input tensors live on
/// (all inputs and the output must share one device) and gives the same results on the CPU
/// and CUDA backends within float32 rounding. Calls are synchronous from the caller's view for
/// host tensors; device work is queued on the device's stream and ordered with other mpengine
/// work on that device (host copies wait for it).

#include <mpe/graph.hpp>
#include <mpe/tensor.hpp>

namespace mpe {

/// Log-space value standing for probability zero: finite so that sums never make NaN.
inline constexpr float kLogZero = -1e12f;

/// Batched log-space contraction, the log-sum-exp analogue of a batched matrix-vector product:
///
///     y[b, i] = logsumexp_j( M[b, i, j] + x[b, j] )
///
/// M is float32 [B, I, J] (one matrix per batch entry) or [I, J] (shared by the batch); x is
/// float32 [B, J]; y is float32 [B, I] and is overwritten. Entries at or below kLogZero/2
/// count as zero probability: a row whose every term is zero gives exactly kLogZero, never
/// NaN or -inf. J == 0 also gives kLogZero. Throws Error(shape_mismatch / dtype_mismatch /
/// device_mismatch) naming the argument; y is untouched on error.
void lse_contract(const Tensor& M, const Tensor& x, Tensor& y);
/// As above, allocating y on the inputs' device.
Tensor lse_contract(const Tensor& M, const Tensor& x);

/// CSR aggregation (SpMM-like message passing, pull direction):
///
///     y[i, :] = AGG_{e in row i} w_e * x[col_e, :]
///
/// with w_e = 1 when the CSR is unweighted (AGG any Aggregation). x is float32 [num_cols, F];
/// y is float32 [num_rows, F] and is overwritten. This is the message-passing layer
/// (graph_mp.hpp) with an edge-weight message and a plain update, run by the same kernels.
/// Each output element is reduced in edge order by one owner (no atomics), so results are
/// bit-reproducible run to run. Empty rows give 0 (kLogZero for logsumexp). The CSR must live on the same device as x and y and be valid (see
/// validate(); csr_from_coo and the readers only produce valid ones): column indices are not
/// re-checked here, for speed.
void csr_aggregate(const Csr& graph, const Tensor& x, Aggregation agg, Tensor& y);
/// As above, allocating y on x's device.
Tensor csr_aggregate(const Csr& graph, const Tensor& x, Aggregation agg);

}  // namespace mpe
