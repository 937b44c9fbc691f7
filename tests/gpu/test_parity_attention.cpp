// Attention forward: CUDA against the CPU twin, with guard bytes around O and lse.
#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <mpe/attention.hpp>
#include <mpe/ops.hpp>

#include "backend.hpp"
#include "kernel_enums.hpp"
#include "support/gpu.hpp"
#include "support/guarded.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

struct Case {
  std::int64_t B, Hq, Hkv, Nq, Nk, D;
  bool causal, padded;
};

// The case in words, for SCOPED_TRACE.
std::string case_words(const Case& c, DType dt) {
  return fmt::format("{} B={} Hq={} Hkv={} Nq={} Nk={} D={} causal={} padded={}", dtype_name(dt),
                     c.B, c.Hq, c.Hkv, c.Nq, c.Nk, c.D, c.causal, c.padded);
}

// O and lse of case c on `dev`, filled with NaN bytes (so unwritten elements show).
AttentionOutput poisoned_output(const Case& c, DType dt, const Device& dev) {
  AttentionOutput r;
  r.out = Tensor::empty({c.B, c.Hq, c.Nq, c.D}, dt, dev);
  r.out.fill_bytes(0xff);
  r.lse = Tensor::empty({c.B, c.Hq, c.Nq}, DType::f32, dev);
  r.lse.fill_bytes(0xff);
  return r;
}

// Kernel arguments of case c on device tensors q, k, v (storage of dt) and an optional mask.
kernels::AttentionArgs kernel_args(const Case& c, DType dt, const Tensor& q, const Tensor& k,
                                   const Tensor& v, const Tensor& mask, void* out, float* lse) {
  kernels::AttentionArgs a;
  a.store = detail::storage_of(dt);
  a.q = q.raw();
  a.k = k.raw();
  a.v = v.raw();
  a.out = out;
  a.lse = lse;
  a.key_mask = mask.defined() ? mask.data<std::int32_t>() : nullptr;
  a.batch = c.B;
  a.q_heads = c.Hq;
  a.kv_heads = c.Hkv;
  a.q_len = c.Nq;
  a.k_len = c.Nk;
  a.head_dim = c.D;
  a.scale = 1.0f / std::sqrt(static_cast<float>(c.D));
  a.causal = c.causal;
  return a;
}

void check_case(const Case& c, std::uint64_t seed) {
  SCOPED_TRACE(testing::Message() << "B=" << c.B << " Hq=" << c.Hq << " Hkv=" << c.Hkv
                                  << " Nq=" << c.Nq << " Nk=" << c.Nk << " D=" << c.D
                                  << " causal=" << c.causal << " padded=" << c.padded);
  const Shape qs{c.B, c.Hq, c.Nq, c.D}, kvs{c.B, c.Hkv, c.Nk, c.D};
  const Tensor q =
      Tensor::from_vector(test::random_floats(c.B * c.Hq * c.Nq * c.D, -2.f, 2.f, seed), qs);
  const Tensor k =
      Tensor::from_vector(test::random_floats(c.B * c.Hkv * c.Nk * c.D, -2.f, 2.f, seed + 1), kvs);
  const Tensor v =
      Tensor::from_vector(test::random_floats(c.B * c.Hkv * c.Nk * c.D, -3.f, 3.f, seed + 2), kvs);
  Tensor mask;
  if (c.padded) {
    const auto coin = test::random_floats(c.B * c.Nk, 0.f, 1.f, seed + 3);
    std::vector<std::int32_t> m(coin.size());
    for (std::size_t e = 0; e < m.size(); ++e) m[e] = coin[e] < 0.6f ? 1 : 0;
    for (std::int64_t j = 0; j < c.Nk && c.B > 1; ++j) m[j] = 0;  // batch 0 fully padded
    mask = Tensor::from_vector(m, {c.B, c.Nk});
  }
  AttentionOptions opt;
  opt.causal = c.causal;
  const auto want = attention(q, k, v, opt, mask);
  const auto want_o = want.out.to_vector<float>();
  const auto want_l = want.lse.to_vector<float>();

  const Device gpu = Device::cuda(0);
  const Tensor qg = q.to(gpu), kg = k.to(gpu), vg = v.to(gpu);
  const Tensor mg = mask.defined() ? mask.to(gpu) : Tensor();
  test::GuardedOutput out(c.B * c.Hq * c.Nq * c.D, gpu);
  test::GuardedOutput lse(c.B * c.Hq * c.Nq, gpu);
  const kernels::AttentionArgs a =
      kernel_args(c, DType::f32, qg, kg, vg, mg, out.data(), lse.data());
  detail::backend_for(gpu).attention(gpu.index, a);
  const auto got_o = out.values();
  const auto got_l = lse.values();
  EXPECT_TRUE(out.guards_intact());
  EXPECT_TRUE(lse.guards_intact());
  for (std::size_t e = 0; e < got_o.size(); ++e) {
    ASSERT_FALSE(std::isnan(got_o[e])) << "out element " << e << " not written or NaN";
    ASSERT_NEAR(got_o[e], want_o[e], 2e-5f * (1.0f + std::fabs(want_o[e]))) << "out element " << e;
  }
  for (std::size_t e = 0; e < got_l.size(); ++e) {
    ASSERT_FALSE(std::isnan(got_l[e])) << "lse row " << e << " not written or NaN";
    ASSERT_NEAR(got_l[e], want_l[e], 2e-5f * (1.0f + std::fabs(want_l[e]))) << "lse row " << e;
  }
  // The public API on device tensors gives the same numbers.
  const auto api = attention(qg, kg, vg, opt, mg);
  ASSERT_EQ(api.out.to_vector<float>(), got_o);
  ASSERT_EQ(api.lse.to_vector<float>(), got_l);
}

TEST(GpuParityAttention, ShapesMasksAndGroups) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Case cases[] = {
      {1, 1, 1, 1, 1, 1, false, false},      {1, 1, 1, 1, 1, 64, false, false},
      {2, 2, 2, 1, 37, 64, false, false},    {1, 3, 3, 37, 1, 16, false, false},
      {2, 4, 1, 33, 65, 64, false, false},   {1, 2, 2, 64, 64, 128, false, false},
      {1, 1, 1, 100, 130, 48, false, false}, {1, 2, 2, 97, 97, 7, false, false},
      {1, 1, 1, 9, 9, 200, false, false},    {2, 8, 2, 5, 129, 256, false, false},
      {2, 2, 2, 65, 65, 64, true, false},    {1, 4, 2, 100, 100, 32, true, false},
      {1, 1, 1, 7, 150, 16, true, false},    {1, 2, 1, 40, 20, 24, true, false},
      {1, 1, 1, 129, 129, 128, true, false}, {3, 4, 2, 20, 70, 16, false, true},
      {2, 6, 3, 33, 33, 64, true, true},     {2, 2, 2, 65, 130, 100, false, true},
      {1, 2, 2, 3, 0, 8, false, false},      {2, 4, 4, 1000, 1000, 128, true, false},
  };
  std::uint64_t seed = 3;
  for (const Case& c : cases) check_case(c, seed += 4);
}

// ---- bfloat16 / float16 storage, the unfused cuBLAS path, CSR-masked attention ----

struct Inputs {
  Tensor q, k, v, mask;
};

Inputs make_inputs(const Case& c, DType dt, std::uint64_t seed) {
  const Shape qs{c.B, c.Hq, c.Nq, c.D}, kvs{c.B, c.Hkv, c.Nk, c.D};
  Inputs in;
  in.q = Tensor::from_vector(test::random_floats(c.B * c.Hq * c.Nq * c.D, -2.f, 2.f, seed), qs)
             .astype(dt);
  in.k = Tensor::from_vector(test::random_floats(c.B * c.Hkv * c.Nk * c.D, -2.f, 2.f, seed + 1),
                             kvs)
             .astype(dt);
  in.v = Tensor::from_vector(test::random_floats(c.B * c.Hkv * c.Nk * c.D, -3.f, 3.f, seed + 2),
                             kvs)
             .astype(dt);
  if (c.padded) {
    const auto coin = test::random_floats(c.B * c.Nk, 0.f, 1.f, seed + 3);
    std::vector<std::int32_t> m(coin.size());
    for (std::size_t e = 0; e < m.size(); ++e) m[e] = coin[e] < 0.6f ? 1 : 0;
    for (std::int64_t j = 0; j < c.Nk && c.B > 1; ++j) m[j] = 0;  // batch 0 fully padded
    in.mask = Tensor::from_vector(m, {c.B, c.Nk});
  }
  return in;
}

// got (device result) against want (CPU result, same inputs). `rel_max`: bound relative to the
// largest |want| (16-bit storage: P and O rounded); lse always to 1e-4 relative.
void expect_close(const AttentionOutput& got, const AttentionOutput& want, double rel_max,
                  const char* what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(got.out.dtype(), want.out.dtype());
  const auto go = got.out.astype(DType::f32).to_vector<float>();
  const auto wo = want.out.astype(DType::f32).to_vector<float>();
  const auto gl = got.lse.to_vector<float>(), wl = want.lse.to_vector<float>();
  ASSERT_EQ(go.size(), wo.size());
  double max_w = 0;
  for (float x : wo) max_w = std::max(max_w, static_cast<double>(std::fabs(x)));
  for (std::size_t e = 0; e < go.size(); ++e) {
    ASSERT_FALSE(std::isnan(go[e])) << "out element " << e;
    ASSERT_LE(std::fabs(go[e] - wo[e]), rel_max * std::max(max_w, 1.0) + 1e-6)
        << "out element " << e << ": " << go[e] << " vs " << wo[e];
  }
  for (std::size_t e = 0; e < gl.size(); ++e) {
    ASSERT_FALSE(std::isnan(gl[e])) << "lse row " << e;
    ASSERT_NEAR(gl[e], wl[e], 1e-4 * (1.0 + std::fabs(wl[e]))) << "lse row " << e;
  }
}

const Case kHalfCases[] = {
    {1, 1, 1, 1, 1, 64, false, false},     {2, 2, 2, 1, 37, 64, false, false},
    {1, 3, 3, 37, 1, 16, false, false},    {2, 4, 1, 33, 65, 64, false, false},
    {1, 2, 2, 64, 64, 128, false, false},  {1, 1, 1, 100, 130, 48, false, false},
    {1, 2, 2, 97, 97, 7, false, false},    {1, 1, 1, 9, 9, 200, false, false},
    {2, 2, 2, 65, 65, 64, true, false},    {1, 4, 2, 100, 100, 128, true, false},
    {1, 1, 1, 7, 150, 16, true, false},    {1, 2, 1, 40, 20, 24, true, false},
    {3, 4, 2, 20, 70, 16, false, true},    {2, 6, 3, 33, 33, 64, true, true},
    {2, 2, 2, 65, 130, 100, false, true},  {1, 2, 2, 3, 0, 8, false, false},
    {2, 4, 4, 1000, 1000, 128, true, false}, {1, 2, 2, 300, 257, 72, false, false},
};

TEST(GpuParityAttention, HalfStorageTensorCoresAndCudaCores) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Device gpu = Device::cuda(0);
  std::uint64_t seed = 500;
  for (const DType dt : {DType::bf16, DType::f16}) {
    for (const Case& c : kHalfCases) {
      SCOPED_TRACE(case_words(c, dt));
      const Inputs in = make_inputs(c, dt, seed += 4);
      AttentionOptions opt;
      opt.causal = c.causal;
      const auto want = attention(in.q, in.k, in.v, opt, in.mask);
      const Tensor qg = in.q.to(gpu), kg = in.k.to(gpu), vg = in.v.to(gpu);
      const Tensor mg = in.mask.defined() ? in.mask.to(gpu) : Tensor();
      // Public API: tensor cores for head_dim <= 128, CUDA cores above.
      expect_close(attention(qg, kg, vg, opt, mg), want, 1e-2, "default kernel");
      // The CUDA-core kernel on 16-bit storage for every head dim (test hook).
      AttentionOutput cores = poisoned_output(c, dt, gpu);
      kernels::AttentionArgs a =
          kernel_args(c, dt, qg, kg, vg, mg, cores.out.raw(), cores.lse.data<float>());
      a.force_cuda_cores = 1;
      detail::backend_for(gpu).attention(gpu.index, a);
      expect_close(cores, want, 1e-2, "CUDA-core kernel");
    }
  }
}

TEST(GpuParityAttention, UnfusedCublasPath) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Device gpu = Device::cuda(0);
  std::uint64_t seed = 900;
  AttentionOptions unfused;
  unfused.path = AttentionPath::unfused;
  for (const DType dt : {DType::f32, DType::bf16, DType::f16}) {
    for (const Case& c : kHalfCases) {
      SCOPED_TRACE(case_words(c, dt));
      const Inputs in = make_inputs(c, dt, seed += 4);
      AttentionOptions opt;
      opt.causal = c.causal;
      unfused.causal = c.causal;
      const auto want = attention(in.q, in.k, in.v, opt, in.mask);
      const Tensor qg = in.q.to(gpu), kg = in.k.to(gpu), vg = in.v.to(gpu);
      const Tensor mg = in.mask.defined() ? in.mask.to(gpu) : Tensor();
      const double tol = dt == DType::f32 ? 2e-5 : 1e-2;
      expect_close(attention(qg, kg, vg, unfused, mg), want, tol, "unfused");
      // In pieces: a workspace of 3 score rows (row ranges of one (batch, kv head) pair), and
      // of 2.5 pairs (whole pairs per piece, the last piece shorter).
      const std::size_t row_bytes =
          static_cast<std::size_t>(c.Nk) * (4 + (dt == DType::f32 ? 4 : 2));
      const std::size_t pair_rows = static_cast<std::size_t>(c.Hq / c.Hkv * c.Nq);
      for (const std::size_t limit : {3 * row_bytes, pair_rows * row_bytes * 5 / 2}) {
        if (row_bytes == 0) continue;
        AttentionOutput got = poisoned_output(c, dt, gpu);
        kernels::AttentionArgs a =
            kernel_args(c, dt, qg, kg, vg, mg, got.out.raw(), got.lse.data<float>());
        a.unfused = true;
        a.unfused_workspace_limit = limit;
        detail::backend_for(gpu).attention(gpu.index, a);
        expect_close(got, want, tol, "unfused in pieces");
      }
    }
  }
}

TEST(GpuParityAttention, CsrMaskedAttention) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Device gpu = Device::cuda(0);
  const Case cases[] = {
      {1, 1, 1, 1, 1, 4, false, false},     {2, 2, 2, 17, 23, 16, false, false},
      {1, 4, 2, 40, 40, 64, true, false},   {2, 3, 3, 9, 50, 7, false, false},
      {1, 2, 1, 30, 12, 128, true, false},  {1, 2, 2, 64, 300, 200, false, false},
      {2, 2, 1, 500, 500, 64, false, false},
  };
  std::uint64_t seed = 1300;
  for (const DType dt : {DType::f32, DType::bf16, DType::f16}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(testing::Message() << dtype_name(dt) << " Nq=" << c.Nq << " Nk=" << c.Nk
                                      << " D=" << c.D << " causal=" << c.causal);
      const Inputs in = make_inputs(c, dt, seed += 4);
      const Csr g = test::random_csr(c.Nq, c.Nk, std::min<double>(c.Nk, 6.0), false, seed + 3);
      AttentionOptions opt;
      opt.causal = c.causal;
      const auto want = attention_csr(in.q, in.k, in.v, g, opt);
      const auto got =
          attention_csr(in.q.to(gpu), in.k.to(gpu), in.v.to(gpu), g.to(gpu), opt);
      // Same arithmetic in float32 up to the dot products' order; 16-bit outputs may differ by
      // one rounding.
      expect_close(got, want, dt == DType::f32 ? 2e-5 : 1e-2, "csr");
    }
  }
}

TEST(GpuParityAttention, HeadDimTooLargeIsNotSupported) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Device gpu = Device::cuda(0);
  const Tensor q = Tensor::zeros({1, 1, 2, 300}, DType::f32, gpu);
  try {
    attention(q, q, q);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_supported) << e.what();
  }
  // The unfused path has no head-dim limit: D = 300 against the CPU.
  const Case c{1, 2, 1, 37, 45, 300, true, false};
  for (const DType dt : {DType::f32, DType::bf16}) {
    const Inputs in = make_inputs(c, dt, 77);
    AttentionOptions opt;
    opt.causal = true;
    const auto want = attention(in.q, in.k, in.v, opt);
    opt.path = AttentionPath::unfused;
    expect_close(attention(in.q.to(gpu), in.k.to(gpu), in.v.to(gpu), opt), want,
                 dt == DType::f32 ? 2e-5 : 1e-2, "unfused, head dim 300");
  }
}

}  // namespace
}  // namespace mpe
