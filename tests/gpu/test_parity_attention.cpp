// Attention forward: CUDA against the CPU twin, with guard bytes around O and lse.
#include <cmath>

#include <gtest/gtest.h>
#include <mpe/attention.hpp>
#include <mpe/ops.hpp>

#include "backend.hpp"
#include "support/gpu.hpp"
#include "support/guarded.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

struct Case {
  std::int64_t B, Hq, Hkv, Nq, Nk, D;
  bool causal, padded;
};

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
  kernels::AttentionArgs a;
  a.q = qg.data<float>();
  a.k = kg.data<float>();
  a.v = vg.data<float>();
  a.key_mask = mg.defined() ? mg.data<std::int32_t>() : nullptr;
  a.out = out.data();
  a.lse = lse.data();
  a.batch = c.B;
  a.q_heads = c.Hq;
  a.kv_heads = c.Hkv;
  a.q_len = c.Nq;
  a.k_len = c.Nk;
  a.head_dim = c.D;
  a.scale = 1.0f / std::sqrt(static_cast<float>(c.D));
  a.causal = c.causal;
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
}

}  // namespace
}  // namespace mpe
