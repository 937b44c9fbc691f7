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

#include <mpe/tensor.hpp>

namespace mpe {

/// Options of attention().
struct AttentionOptions {
  /// Causal mask, aligned at the bottom right: query i sits at position i + (Nk - Nq) of the
  /// key sequence and sees keys j <= i + (Nk - Nq). With Nq == Nk this is the usual lower
  /// triangle; with Nq < Nk it is decoding with a key/value cache.
  bool causal = false;
  /// Multiplier of the scores; 0 means 1 / sqrt(head_dim). Must be finite.
  float scale = 0.0f;
};

/// O and the per-row log-sum-exp, as returned by attention().
struct AttentionOutput {
  /// float32 [B, Hq, Nq, D].
  Tensor out;
  /// float32 [B, Hq, Nq]: natural log of the softmax denominator (scores include the scale).
  Tensor lse;
};

/// Attention forward into caller-provided outputs.
///
/// - q: float32 [B, Hq, Nq, D]; k, v: float32 [B, Hkv, Nk, D] with Hkv >= 1 dividing Hq.
/// - key_mask: undefined (every key visible) or int32 [B, Nk], non-zero for keys that may be
///   attended to and 0 for padding.
/// - out: float32 [B, Hq, Nq, D]; lse: float32 [B, Hq, Nq] or undefined (not written).
///
/// A query row that sees no key (every key padded, Nk == 0, or causal with Nq > Nk) gets
/// O = 0 and lse = kLogZero (-1e12), never NaN. All tensors must be on one device (CPU or CUDA);
/// the CUDA backend handles head dims up to 256 (others throw Error(not_supported)). Throws
/// Error(shape_mismatch / dtype_mismatch / device_mismatch / invalid_argument) naming the
/// argument and what was expected; outputs are untouched on error.
void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
               const AttentionOptions& options, Tensor& out, Tensor& lse);

/// As above, allocating O and lse on the inputs' device.
AttentionOutput attention(const Tensor& q, const Tensor& k, const Tensor& v,
                          const AttentionOptions& options = {}, const Tensor& key_mask = Tensor());

/// FLOPs counted for one attention forward: 4·B·Hq·Nq·Nk·D, half of it when causal
/// (the convention used to report TFLOP/s).
double attention_flops(std::int64_t batch, std::int64_t heads, std::int64_t q_len,
                       std::int64_t k_len, std::int64_t head_dim, bool causal) noexcept;

}  // namespace mpe
