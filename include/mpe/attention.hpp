#pragma once
/// @file attention.hpp
/// Dense scaled dot-product attention: message passing on the complete graph, where every
/// query row receives the values of all (visible) key rows weighted by a softmax of scores.
///
///     O[b, h, i, :] = Σ_j softmax_j( scale · Q[b, h, i, :] · K[b, g(h), j, :] ) V[b, g(h), j, :]
///     lse[b, h, i]  = log Σ_j exp( scale · Q[b, h, i, :] · K[b, g(h), j, :] )
///
/// where j runs over the keys visible to query i and g(h) = h / (Hq / Hkv) maps a query head to
/// the key/value head its group shares (grouped-query attention; Hkv == Hq is plain multi-head
/// attention, Hkv == 1 multi-query attention). The kernels use an online softmax over blocks
/// of keys and never form the Nq × Nk score matrix.

#include <cstdint>

#include <mpe/graph.hpp>
#include <mpe/tensor.hpp>

namespace mpe {

/// Which implementation attention() runs.
enum class AttentionPath {
  /// Online-softmax kernels that never form the score matrix (CPU and CUDA; on CUDA bfloat16 /
  /// float16 with head_dim <= 128 run on tensor cores, everything else on CUDA cores).
  fused,
  /// CUDA only, a second reference for large shapes: cuBLAS GEMM S = Q·Kᵀ, a row-softmax
  /// kernel, cuBLAS GEMM O = P·V. S and P are materialised in a device workspace of up to
  /// 1 GiB at a time (longer problems run in pieces of rows). CPU tensors give
  /// Error(not_supported).
  unfused,
};

/// Options of attention().
struct AttentionOptions {
  /// Causal mask, aligned at the bottom right: query i sits at position i + (Nk - Nq) of the
  /// key sequence and sees keys j <= i + (Nk - Nq). With Nq == Nk this is the usual lower
  /// triangle; with Nq < Nk it is decoding with a key/value cache.
  bool causal = false;
  /// Multiplier of the scores; 0 means 1 / sqrt(head_dim). Must be finite.
  float scale = 0.0f;
  /// Implementation (see AttentionPath).
  AttentionPath path = AttentionPath::fused;
};

/// O and the per-row log-sum-exp, as returned by attention().
struct AttentionOutput {
  /// [B, Hq, Nq, D], of q's dtype.
  Tensor out;
  /// float32 [B, Hq, Nq]: natural log of the softmax denominator (scores include the scale).
  Tensor lse;
};

/// Attention forward into caller-provided outputs.
///
/// - q: [B, Hq, Nq, D]; k, v: [B, Hkv, Nk, D] with Hkv >= 1 dividing Hq.
/// - q, k, v and out share one dtype: float32, or bfloat16 / float16 storage (loaded into
///   float32, all products and the softmax in float32, O rounded to the storage type at the
///   end: results within ~1e-2 relative of exact arithmetic on the stored inputs).
/// - key_mask: undefined (every key visible) or int32 [B, Nk], non-zero for keys that may be
///   attended to and 0 for padding.
/// - out: [B, Hq, Nq, D] of q's dtype; lse: float32 [B, Hq, Nq] or undefined (not written).
///
/// A query row that sees no key (every key padded, Nk == 0, or causal with Nq > Nk) gets
/// O = 0 and lse = kLogZero (-1e12), never NaN. All tensors must be on one device (CPU or CUDA);
/// the fused CUDA kernels handle head dims up to 256 (others throw Error(not_supported); the
/// unfused path takes any). AttentionPath::unfused on CPU tensors throws Error(not_supported).
/// Throws
/// Error(shape_mismatch / dtype_mismatch / device_mismatch / invalid_argument) naming the
/// argument and what was expected; outputs are untouched on error.
void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
               const AttentionOptions& options, Tensor& out, Tensor& lse);

/// As above, allocating O (q's dtype) and lse (float32) on the inputs' device.
AttentionOutput attention(const Tensor& q, const Tensor& k, const Tensor& v,
                          const AttentionOptions& options = {}, const Tensor& key_mask = Tensor());

/// Attention masked by a CSR neighbourhood: query row i of every (batch, head) attends only to
/// the keys listed in row i of `graph`,
///
///     O[b, h, i, :] = Σ_{e in row i} softmax_e( scale · Q[b, h, i, :] · K[b, g(h), col[e], :] )
///                     V[b, g(h), col[e], :]
///
/// with the softmax over the row's entries (GAT's edge softmax, shared with gat_conv). A column
/// listed twice counts twice; graph weights are ignored. `graph` has num_rows == Nq and
/// num_cols == Nk (int64 row_offsets, int32 col_indices) on q's device. options.causal also
/// hides entries with col > i + (Nk - Nq); options.path must be fused. Tensors, dtypes and
/// outputs as for attention() (no key_mask: the graph is the mask). A row with no visible entry
/// gets O = 0 and lse = kLogZero. With every row complete (all Nk columns), the result equals
/// attention(). Throws as attention() does, and Error(invalid_graph / shape_mismatch) for a
/// graph that does not fit.
void attention_csr(const Tensor& q, const Tensor& k, const Tensor& v, const Csr& graph,
                   const AttentionOptions& options, Tensor& out, Tensor& lse);

/// As above, allocating O (q's dtype) and lse (float32) on the inputs' device.
AttentionOutput attention_csr(const Tensor& q, const Tensor& k, const Tensor& v, const Csr& graph,
                              const AttentionOptions& options = {});

/// FLOPs counted for one attention forward: 4·B·Hq·Nq·Nk·D, half of it when causal
/// (the convention used to report TFLOP/s).
double attention_flops(std::int64_t batch, std::int64_t heads, std::int64_t q_len,
                       std::int64_t k_len, std::int64_t head_dim, bool causal) noexcept;

}  // namespace mpe
