// Public attention forward: check the arguments (naming the one at fault), then hand plain
// pointers to the backend of the device the tensors live on.
#include <mpe/attention.hpp>

#include <cmath>

#include <fmt/format.h>

#include "backend.hpp"
#include "common/attention_math.hpp"

namespace mpe {

namespace {
constexpr const char* kOp = "attention";

void require_f32_rank(const Tensor& t, const char* name, int rank, const char* layout) {
  if (!t.defined()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: {} is an undefined tensor", kOp, name));
  }
  if (t.dtype() != DType::f32) {
    throw Error(ErrorCode::dtype_mismatch,
                fmt::format("{}: {} must be float32, got {}", kOp, name, dtype_name(t.dtype())));
  }
  if (t.rank() != rank) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: {} must be {}, got {}", kOp, name, layout, shape_str(t.shape())));
  }
}

void require_shape(const Tensor& t, const Shape& want, const char* name, const char* layout) {
  if (t.shape() != want) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: {} must be {} = {}, got {}", kOp, name, layout, shape_str(want),
                            shape_str(t.shape())));
  }
}

void require_device(const Tensor& t, const Device& want, const char* name) {
  if (t.device() != want) {
    throw Error(ErrorCode::device_mismatch, fmt::format("{}: {} is on {} but q is on {}", kOp, name,
                                                        t.device().str(), want.str()));
  }
}
}  // namespace

void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
               const AttentionOptions& options, Tensor& out, Tensor& lse) {
  require_f32_rank(q, "q", 4, "[B, Hq, Nq, D]");
  require_f32_rank(k, "k", 4, "[B, Hkv, Nk, D]");
  require_f32_rank(v, "v", 4, "[B, Hkv, Nk, D]");
  const std::int64_t B = q.dim(0), Hq = q.dim(1), Nq = q.dim(2), D = q.dim(3);
  const std::int64_t Hkv = k.dim(1), Nk = k.dim(2);
  require_shape(k, {B, Hkv, Nk, D}, "k", "[B, Hkv, Nk, D]");
  require_shape(v, {B, Hkv, Nk, D}, "v", "[B, Hkv, Nk, D] (the shape of k)");
  if (Hkv < 1 || Hq % Hkv != 0) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: k/v heads (Hkv = {}) must be >= 1 and divide q heads (Hq = {})",
                            kOp, Hkv, Hq));
  }
  if (key_mask.defined()) {
    if (key_mask.dtype() != DType::i32) {
      throw Error(ErrorCode::dtype_mismatch, fmt::format("{}: key_mask must be int32, got {}", kOp,
                                                         dtype_name(key_mask.dtype())));
    }
    require_shape(key_mask, {B, Nk}, "key_mask", "[B, Nk]");
  }
  require_f32_rank(out, "out", 4, "[B, Hq, Nq, D]");
  require_shape(out, {B, Hq, Nq, D}, "out", "[B, Hq, Nq, D]");
  if (lse.defined()) {
    require_f32_rank(lse, "lse", 3, "[B, Hq, Nq]");
    require_shape(lse, {B, Hq, Nq}, "lse", "[B, Hq, Nq]");
  }
  if (!std::isfinite(options.scale)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: options.scale must be finite, got {}", kOp, options.scale));
  }
  const Device dev = q.device();
  require_device(k, dev, "k");
  require_device(v, dev, "v");
  if (key_mask.defined()) require_device(key_mask, dev, "key_mask");
  require_device(out, dev, "out");
  if (lse.defined()) require_device(lse, dev, "lse");
  if (dev.kind == DeviceKind::cuda && D > kernels::kAttentionCudaMaxHeadDim) {
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: head_dim {} on {}: the CUDA kernel handles head dims up to {}",
                            kOp, D, dev.str(), kernels::kAttentionCudaMaxHeadDim));
  }

  kernels::AttentionArgs args;
  args.q = q.data<float>();
  args.k = k.data<float>();
  args.v = v.data<float>();
  args.key_mask = key_mask.defined() ? key_mask.data<std::int32_t>() : nullptr;
  args.out = out.data<float>();
  args.lse = lse.defined() ? lse.data<float>() : nullptr;
  args.batch = B;
  args.q_heads = Hq;
  args.kv_heads = Hkv;
  args.q_len = Nq;
  args.k_len = Nk;
  args.head_dim = D;
  args.scale = kernels::attn_resolve_scale(options.scale, D);
  args.causal = options.causal;
  if (out.numel() == 0 && (!lse.defined() || lse.numel() == 0)) return;
  detail::backend_for(dev).attention(dev.index, args);
}

AttentionOutput attention(const Tensor& q, const Tensor& k, const Tensor& v,
                          const AttentionOptions& options, const Tensor& key_mask) {
  require_f32_rank(q, "q", 4, "[B, Hq, Nq, D]");
  AttentionOutput r;
  r.out = Tensor::empty(q.shape(), DType::f32, q.device());
  r.lse = Tensor::empty({q.dim(0), q.dim(1), q.dim(2)}, DType::f32, q.device());
  attention(q, k, v, key_mask, options, r.out, r.lse);
  return r;
}

double attention_flops(std::int64_t batch, std::int64_t heads, std::int64_t q_len,
                       std::int64_t k_len, std::int64_t head_dim, bool causal) noexcept {
  const double f = 4.0 * static_cast<double>(batch) * static_cast<double>(heads) *
                   static_cast<double>(q_len) * static_cast<double>(k_len) *
                   static_cast<double>(head_dim);
  return causal ? f / 2 : f;
}

}  // namespace mpe
