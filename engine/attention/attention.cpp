// Public attention forward: check the arguments (naming the one at fault), then hand plain
// pointers to the backend of the device the tensors live on.
#include <mpe/attention.hpp>

#include <cmath>

#include <fmt/format.h>

#include "backend.hpp"
#include "common/attention_math.hpp"
#include "checks.hpp"
#include "kernel_enums.hpp"

namespace mpe {

namespace {
using detail::require_defined;
using detail::require_device;
using detail::require_rank;
using detail::require_shape;

// q, k, v and out: float32, bfloat16 or float16, all the same (q's: `want`), of `rank`
// dimensions. Arguments in the order of engine/checks.hpp: op, tensor, requirements, name.
void require_storage(const char* kOp, const Tensor& t, DType want, int rank, const char* name,
                     const char* layout) {
  require_defined(kOp, t, name);
  if (t.dtype() != DType::f32 && t.dtype() != DType::bf16 && t.dtype() != DType::f16) {
    throw Error(ErrorCode::dtype_mismatch,
                fmt::format("{}: {} must be float32, bfloat16 or float16, got {}", kOp, name,
                            dtype_name(t.dtype())));
  }
  if (t.dtype() != want) {
    throw Error(ErrorCode::dtype_mismatch,
                fmt::format("{}: {} must have q's dtype {}, got {}", kOp, name, dtype_name(want),
                            dtype_name(t.dtype())));
  }
  require_rank(kOp, t, rank, name, layout);
}

void require_f32_rank(const char* kOp, const Tensor& t, int rank, const char* name,
                      const char* layout) {
  require_defined(kOp, t, name);
  detail::require_dtype(kOp, t, DType::f32, name);
  require_rank(kOp, t, rank, name, layout);
}

// Checks the arguments of attention() / attention_csr() (naming `kOp` in errors) and fills
// the kernel arguments. Returns false when there is nothing to compute.
bool prepare(const char* kOp, const Tensor& q, const Tensor& k, const Tensor& v,
             const Tensor& key_mask, const AttentionOptions& options, Tensor& out, Tensor& lse,
             kernels::AttentionArgs& args) {
  require_defined(kOp, q, "q");
  const DType st = q.dtype();
  require_storage(kOp, q, st, 4, "q", "[B, Hq, Nq, D]");
  require_storage(kOp, k, st, 4, "k", "[B, Hkv, Nk, D]");
  require_storage(kOp, v, st, 4, "v", "[B, Hkv, Nk, D]");
  const std::int64_t B = q.dim(0), Hq = q.dim(1), Nq = q.dim(2), D = q.dim(3);
  const std::int64_t Hkv = k.dim(1), Nk = k.dim(2);
  require_shape(kOp, k, {B, Hkv, Nk, D}, "k", "[B, Hkv, Nk, D]");
  require_shape(kOp, v, {B, Hkv, Nk, D}, "v", "[B, Hkv, Nk, D] (the shape of k)");
  if (Hkv < 1 || Hq % Hkv != 0) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: k/v heads (Hkv = {}) must be >= 1 and divide q heads (Hq = {})",
                            kOp, Hkv, Hq));
  }
  if (key_mask.defined()) {
    detail::require_dtype(kOp, key_mask, DType::i32, "key_mask");
    require_shape(kOp, key_mask, {B, Nk}, "key_mask", "[B, Nk]");
  }
  require_storage(kOp, out, st, 4, "out", "[B, Hq, Nq, D]");
  require_shape(kOp, out, {B, Hq, Nq, D}, "out", "[B, Hq, Nq, D]");
  if (lse.defined()) {
    require_f32_rank(kOp, lse, 3, "lse", "[B, Hq, Nq]");
    require_shape(kOp, lse, {B, Hq, Nq}, "lse", "[B, Hq, Nq]");
  }
  if (!std::isfinite(options.scale)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: options.scale must be finite, got {}", kOp, options.scale));
  }
  const Device dev = q.device();
  require_device(kOp, k, dev, "k", "q is");
  require_device(kOp, v, dev, "v", "q is");
  if (key_mask.defined()) require_device(kOp, key_mask, dev, "key_mask", "q is");
  require_device(kOp, out, dev, "out", "q is");
  if (lse.defined()) require_device(kOp, lse, dev, "lse", "q is");
  if (options.path == AttentionPath::unfused && dev.kind != DeviceKind::cuda) {
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: the unfused (cuBLAS) path runs on CUDA devices only; q is on {}",
                            kOp, dev.str()));
  }
  if (dev.kind == DeviceKind::cuda && options.path == AttentionPath::fused &&
      D > kernels::kAttentionCudaMaxHeadDim) {
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: head_dim {} on {}: the CUDA kernel handles head dims up to {}",
                            kOp, D, dev.str(), kernels::kAttentionCudaMaxHeadDim));
  }

  detail::require_finite(kOp, q, "q");
  detail::require_finite(kOp, k, "k");
  detail::require_finite(kOp, v, "v");
  args.store = detail::storage_of(st);
  args.q = q.raw();
  args.k = k.raw();
  args.v = v.raw();
  args.out = out.raw();
  args.key_mask = key_mask.defined() ? key_mask.data<std::int32_t>() : nullptr;
  args.lse = lse.defined() ? lse.data<float>() : nullptr;
  args.batch = B;
  args.q_heads = Hq;
  args.kv_heads = Hkv;
  args.q_len = Nq;
  args.k_len = Nk;
  args.head_dim = D;
  args.scale = kernels::attn_resolve_scale(options.scale, D);
  args.causal = options.causal;
  args.unfused = options.path == AttentionPath::unfused;
  return !(out.numel() == 0 && (!lse.defined() || lse.numel() == 0));
}
// The outputs of the allocating forms: out like q, lse [B, Hq, Nq] in float32, on q's device.
AttentionOutput allocate_output(const char* kOp, const Tensor& q) {
  require_defined(kOp, q, "q");
  require_storage(kOp, q, q.dtype(), 4, "q", "[B, Hq, Nq, D]");
  AttentionOutput r;
  r.out = Tensor::empty(q.shape(), q.dtype(), q.device());
  r.lse = Tensor::empty({q.dim(0), q.dim(1), q.dim(2)}, DType::f32, q.device());
  return r;
}
}  // namespace

void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
               const AttentionOptions& options, Tensor& out, Tensor& lse) {
  kernels::AttentionArgs args;
  if (!prepare("attention", q, k, v, key_mask, options, out, lse, args)) return;
  const Device dev = q.device();
  detail::backend_for(dev).attention(dev.index, args);
}

AttentionOutput attention(const Tensor& q, const Tensor& k, const Tensor& v,
                          const AttentionOptions& options, const Tensor& key_mask) {
  AttentionOutput r = allocate_output("attention", q);
  attention(q, k, v, key_mask, options, r.out, r.lse);
  return r;
}

void attention_csr(const Tensor& q, const Tensor& k, const Tensor& v, const Csr& graph,
                   const AttentionOptions& options, Tensor& out, Tensor& lse) {
  constexpr const char* kOp = "attention_csr";
  if (options.path != AttentionPath::fused) {
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: only the fused path exists for CSR-masked attention", kOp));
  }
  kernels::AttentionArgs args;
  const bool work = prepare(kOp, q, k, v, Tensor(), options, out, lse, args);
  const Device dev = q.device();
  detail::check_csr(kOp, graph, dev);
  if (graph.num_rows != args.q_len || graph.num_cols != args.k_len) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: graph must be Nq x Nk = {} x {} (rows = queries, columns = "
                            "keys), got {} x {}",
                            kOp, args.q_len, args.k_len, graph.num_rows, graph.num_cols));
  }
  if (!work) return;
  args.row_offsets = graph.row_offsets.data<std::int64_t>();
  args.col_indices = graph.col_indices.data<std::int32_t>();
  detail::backend_for(dev).attention_csr(dev.index, args);
}

AttentionOutput attention_csr(const Tensor& q, const Tensor& k, const Tensor& v, const Csr& graph,
                              const AttentionOptions& options) {
  AttentionOutput r = allocate_output("attention_csr", q);
  attention_csr(q, k, v, graph, options, r.out, r.lse);
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
