// CUDA device handling: copies, device selection, out-of-memory recovery.
#include <cmath>
#include <cstdlib>

#include <gtest/gtest.h>
#include <mpe/mpe.hpp>

#include "support/gpu.hpp"

namespace mpe {
namespace {

TEST(GpuDevice, RoundTripCopiesForEveryDtype) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Device gpu = Device::cuda(0);
  const std::vector<double> d = {1.5, -2.25, 3e100, 0.0, -0.0};
  EXPECT_EQ(Tensor::from_vector(d, {5}, gpu).to_vector<double>(), d);
  const std::vector<std::int64_t> l = {1, -2, 1ll << 40};
  EXPECT_EQ(Tensor::from_vector(l, {3}, gpu).clone().to_vector<std::int64_t>(), l);
  const std::vector<std::int32_t> i = {7, -8};
  EXPECT_EQ(Tensor::from_vector(i, {2}).to(gpu).to(Device::cpu()).to_vector<std::int32_t>(), i);
  const Tensor z = Tensor::zeros({3, 0}, DType::f32, gpu);
  EXPECT_EQ(z.numel(), 0);
  EXPECT_TRUE(z.to_vector<float>().empty());
  const auto zeros = Tensor::zeros({1000}, DType::f32, gpu).to_vector<float>();
  for (float v : zeros) ASSERT_EQ(v, 0.f);
}

TEST(GpuDevice, DeviceSelection) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  EXPECT_EQ(parse_device("cuda"), Device::cuda(0));
  EXPECT_EQ(parse_device("auto"), Device::cuda(0));
  EXPECT_EQ(parse_device("cuda:0"), Device::cuda(0));
  try {
    parse_device("cuda:999");
    FAIL() << "expected device_unavailable";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::device_unavailable);
  }
  const DeviceInfo info = device_info(Device::cuda(0));
  EXPECT_GT(info.multiprocessors, 0);
  EXPECT_GT(info.total_memory, 0u);
  EXPECT_FALSE(info.name.empty());
}

TEST(GpuDevice, OutOfMemoryIsAnErrorAndTheEngineKeepsWorking) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Device gpu = Device::cuda(0);
  try {
    Tensor huge = Tensor::empty({std::int64_t(1) << 46}, DType::f32, gpu);  // 256 TiB
    FAIL() << "a 256 TiB allocation succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::out_of_memory) << e.what();
  }
  // The device still works: allocate, compute, copy back.
  const Tensor M = Tensor::from_vector<float>({0.f, 1.f}, {1, 2}, gpu);
  const Tensor x = Tensor::from_vector<float>({0.f, 1.f}, {1, 2}, gpu);
  EXPECT_NEAR(lse_contract(M, x).to_vector<float>()[0], std::log(1.0 + std::exp(2.0)), 1e-6);
}

}  // namespace
}  // namespace mpe
