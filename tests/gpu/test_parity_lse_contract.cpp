// lse_contract: CUDA against the CPU twin, with guard bytes around the output.
#include <cmath>

#include <gtest/gtest.h>
#include <mpe/ops.hpp>

#include "backend.hpp"
#include "support/gpu.hpp"
#include "support/guarded.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

struct Case {
  std::int64_t B, I, J;
  bool shared;
  float mask_fraction;
};

void check_case(const Case& c, std::uint64_t seed) {
  SCOPED_TRACE(testing::Message() << "B=" << c.B << " I=" << c.I << " J=" << c.J
                                  << " shared=" << c.shared << " mask=" << c.mask_fraction);
  auto M = test::random_floats(static_cast<std::size_t>((c.shared ? 1 : c.B) * c.I * c.J), -8.f,
                               2.f, seed);
  const auto x = test::random_floats(static_cast<std::size_t>(c.B * c.J), -5.f, 1.f, seed + 1);
  const auto coin = test::random_floats(M.size(), 0.f, 1.f, seed + 2);
  for (std::size_t k = 0; k < M.size(); ++k) {
    if (coin[k] < c.mask_fraction) M[k] = kLogZero;
  }
  const Shape m_shape = c.shared ? Shape{c.I, c.J} : Shape{c.B, c.I, c.J};
  const Tensor M_cpu = Tensor::from_vector(M, m_shape);
  const Tensor x_cpu = Tensor::from_vector(x, {c.B, c.J});
  const auto want = lse_contract(M_cpu, x_cpu).to_vector<float>();

  const Device gpu = Device::cuda(0);
  const Tensor M_gpu = M_cpu.to(gpu);
  const Tensor x_gpu = x_cpu.to(gpu);
  test::GuardedOutput out(c.B * c.I, gpu);
  kernels::LseContractArgs args;
  args.M = M_gpu.data<float>();
  args.x = x_gpu.data<float>();
  args.y = out.data();
  args.batch = c.B;
  args.rows = c.I;
  args.cols = c.J;
  args.shared_matrix = c.shared;
  detail::backend_for(gpu).lse_contract(gpu.index, args);
  const auto got = out.values();
  EXPECT_TRUE(out.guards_intact());
  for (std::size_t k = 0; k < got.size(); ++k) {
    ASSERT_FALSE(std::isnan(got[k])) << "element " << k << " not written or NaN";
    ASSERT_NEAR(got[k], want[k], 2e-6 * std::max(1.0f, std::fabs(want[k])) + 2e-6f)
        << "element " << k;
  }
  // The public API on device tensors gives the same numbers.
  const auto api = lse_contract(M_gpu, x_gpu).to_vector<float>();
  ASSERT_EQ(api, got);
}

TEST(GpuParityLseContract, ShapesAndEdgeCases) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Case cases[] = {
      {1, 1, 1, false, 0.f},     {1, 1, 1, true, 0.f},      {3, 7, 2, false, 0.f},
      {5, 4, 3, true, 0.f},      {2, 9, 5, false, 0.f},     {7, 13, 8, true, 0.f},
      {4, 31, 16, false, 0.f},   {3, 17, 17, false, 0.f},   {9, 33, 31, true, 0.f},
      {2, 8, 32, false, 0.f},    {1, 65, 1000, false, 0.f}, {64, 192, 192, true, 0.f},
      {16, 640, 640, true, 0.f}, {1024, 48, 7, true, 0.f},  {5, 40, 40, false, 0.5f},
      {5, 40, 40, false, 1.0f},  {3, 12, 6, true, 0.9f},    {1, 3, 0, false, 0.f},
      {6, 10, 300, false, 0.f},  {3, 11, 128, true, 0.f},   {2, 5, 511, false, 0.2f},
  };
  std::uint64_t seed = 1;
  for (const Case& c : cases) check_case(c, seed += 3);
}

TEST(GpuParityLseContract, ManyRowsUseTheGridStride) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  check_case({30000, 1200, 3, true, 0.f}, 77);  // 36M rows: more than one pass of the grid
}

}  // namespace
}  // namespace mpe
