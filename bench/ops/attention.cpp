// mpe-bench op attention: the attention forward (fused or unfused, f32/bf16/f16).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <mpe/aif.hpp>
#include <mpe/attention.hpp>
#include <mpe/engine.hpp>
#include <mpe/ops.hpp>

#include "graphs.hpp"
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
  const std::string& dts = p.params.at("attn_dtype");
  const DType dt = dts == "bf16" ? DType::bf16 : (dts == "f16" ? DType::f16 : DType::f32);
  auto q = std::make_shared<Tensor>(random_tensor({B, H, N, D}, -1.f, 1.f, seed, device).astype(dt));
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
  c.bytes = es * (2.0 * double(B * H * N * D) + 2.0 * double(B * Hkv * N * D)) + 4.0 * double(B * H * N);
  c.shape = fmt::format("B={} H={} Hkv={} N={} D={}{} {}{}", B, H, Hkv, N, D,
                        causal ? " causal" : "", dtype_name(dt), unfused ? " unfused" : "");
  return c;
}

void validate_attention(const Grid& g) {
  check_at_least("attn-batch", g.attn_batch, 1);
  check_at_least("heads", g.heads, 1);
  check_at_least("kv-heads", g.kv_heads, 0);
  check_at_least("seq", g.seq, 1);
  check_at_least("head-dim", g.head_dim, 1);
  check_at_least("causal", g.causal, 0);
  check_dtypes(g.attn_dtype);
  for (const auto& pa : g.attn_path) {
    if (pa != "fused" && pa != "unfused") {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("unknown --attn-path '{}' (fused or unfused)", pa));
    }
  }
}

void expand_attention(const Grid& grid, std::vector<CasePoint>& out) {
  cartesian("attention",
            {{"attn_batch", texts(grid.attn_batch)},
             {"heads", texts(grid.heads)},
             {"kv_heads", texts(grid.kv_heads)},
             {"seq", texts(grid.seq)},
             {"head_dim", texts(grid.head_dim)},
             {"causal", texts(grid.causal)},
             {"attn_dtype", grid.attn_dtype},
             {"attn_path", grid.attn_path}},
            out);
}

// mpe-bench's flags of this op (their values fill the grid).
void add_attention_flags(CLI::App& app, Grid& g) {
  app.add_option("--attn-batch", g.attn_batch, "attention: batch B")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--heads", g.heads, "attention: query heads H")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--kv-heads", g.kv_heads, "attention: key/value heads (0 = H)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--seq", g.seq, "attention: sequence length N (queries = keys)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--head-dim", g.head_dim, "attention: head dim D")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--causal", g.causal, "attention: 1 = causal mask")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--dtype", g.attn_dtype,
                 "attention: storage of q, k, v, O; graph_mp: storage of x and y (f32, bf16, "
                 "f16; float32 arithmetic)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--attn-path", g.attn_path,
                 "attention: fused (online softmax) or unfused (CUDA: cuBLAS GEMM, softmax, GEMM)")
      ->delimiter(',')
      ->capture_default_str();
}
}  // namespace

MPE_BENCH_OP({"attention", validate_attention, expand_attention,
              [](const CasePoint& p, const Device& d, std::uint64_t seed, const std::string&) {
                return prepare_attention(p, d, seed);
              },
              add_attention_flags})
}  // namespace mpe::bench
