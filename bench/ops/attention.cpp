// mpe-bench op attention: the attention forward (fused or unfused, f32/bf16/f16).
#include <memory>

#include <fmt/format.h>
#include <mpe/attention.hpp>
#include <mpe/error.hpp>

#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
// Attention forward: q [B, H, N, D], k and v [B, Hkv, N, D] stored as float32, bfloat16 or
// float16 (--dtype), fused or unfused (--attn-path, CUDA). FLOPs 4·B·H·N²·D (half when causal);
// bytes q, k, v read and O written once in the storage type, lse (float32) written once.
PreparedCase prepare_attention(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t B = param(p, "attn_batch"), H = param(p, "heads"), N = param(p, "seq"),
                     D = param(p, "head_dim");
  const std::int64_t Hkv = param(p, "kv_heads") == 0 ? H : param(p, "kv_heads");
  const bool causal = param(p, "causal") != 0;
  if (H % Hkv != 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("--kv-heads {} must divide --heads {}", Hkv, H));
  }
  const DType dt = storage_dtype(p.params.at("attn_dtype"));
  auto q =
      std::make_shared<Tensor>(random_tensor({B, H, N, D}, -1.f, 1.f, seed, device).astype(dt));
  auto k = std::make_shared<Tensor>(
      random_tensor({B, Hkv, N, D}, -1.f, 1.f, seed + 1, device).astype(dt));
  auto v = std::make_shared<Tensor>(
      random_tensor({B, Hkv, N, D}, -1.f, 1.f, seed + 2, device).astype(dt));
  auto o = std::make_shared<Tensor>(Tensor::empty({B, H, N, D}, dt, device));
  auto lse = std::make_shared<Tensor>(Tensor::empty({B, H, N}, DType::f32, device));
  o->fill_bytes(0xFF);
  lse->fill_bytes(0xFF);
  AttentionOptions opt;
  opt.causal = causal;
  const bool unfused = p.params.at("attn_path") == "unfused";
  opt.path = unfused ? AttentionPath::unfused : AttentionPath::fused;
  PreparedCase c;
  c.run = [q, k, v, o, lse, opt] { attention(*q, *k, *v, Tensor(), opt, *o, *lse); };
  c.flops = attention_flops(B, H, N, N, D, causal);
  const double es = static_cast<double>(dtype_size(dt));
  c.bytes =
      es * (2.0 * double(B * H * N * D) + 2.0 * double(B * Hkv * N * D)) + 4.0 * double(B * H * N);
  c.shape = fmt::format("B={} H={} Hkv={} N={} D={}{} {}{}", B, H, Hkv, N, D,
                        causal ? " causal" : "", dtype_name(dt), unfused ? " unfused" : "");
  return c;
}

}  // namespace

MPE_BENCH_OP(OpSpec{
    "attention",
    "dense forward; --dtype, --attn-path",
    "q, k, v read and O written once (--dtype size), lse (float32) once;\n"
    "GFLOP/s = 4*B*H*N*N*D / time (half when causal)",
    {int_param("attn-batch", "attention: batch B", {1}, 1),
     int_param("heads", "attention: query heads H", {8}, 1),
     int_param("kv-heads", "attention: key/value heads (0 = H)", {0}, 0),
     int_param("seq", "attention: sequence length N (queries = keys)", {512, 1024, 2048}, 1)
         .quick({"256"}),
     int_param("head-dim", "attention: head dim D", {64, 128}, 1).quick({"64"}),
     int_param("causal", "attention: 1 = causal mask", {0}, 0, 1),
     text_param("dtype",
                "attention: storage of q, k, v, O; graph_mp: storage of x and y (f32, "
                "bf16, f16; float32 arithmetic)",
                {"f32"}, storage_dtypes())
         .key("attn_dtype"),
     text_param("attn-path",
                "attention: fused (online softmax) or unfused (CUDA: cuBLAS GEMM, "
                "softmax, GEMM)",
                {"fused"}, one_of({"fused", "unfused"}))},
    prepare_attention})

}  // namespace mpe::bench
