// lse_contract on the CPU against the float64 reference.
#include <cmath>

#include <gtest/gtest.h>
#include <mpe/ops.hpp>

#include "support/reference.hpp"

namespace mpe {
namespace {

void expect_matches_reference(std::int64_t B, std::int64_t I, std::int64_t J, bool shared,
                              std::vector<float> M, std::vector<float> x) {
  const Shape m_shape = shared ? Shape{I, J} : Shape{B, I, J};
  const Tensor y = lse_contract(Tensor::from_vector(M, m_shape), Tensor::from_vector(x, {B, J}));
  ASSERT_EQ(y.shape(), (Shape{B, I}));
  const auto got = y.to_vector<float>();
  const auto want = test::lse_contract_ref(M, x, B, I, J, shared);
  for (std::size_t k = 0; k < got.size(); ++k) {
    ASSERT_FALSE(std::isnan(got[k])) << "at " << k;
    const double tol = 2e-6 * std::max(1.0, std::fabs(want[k])) + 1e-6 * std::log2(J + 2.0);
    ASSERT_NEAR(got[k], want[k], tol)
        << "at " << k << " (B=" << B << " I=" << I << " J=" << J << " shared=" << shared << ")";
  }
}

void run_random(std::int64_t B, std::int64_t I, std::int64_t J, bool shared, std::uint64_t seed,
                float mask_fraction = 0.0f) {
  auto M = test::random_floats(static_cast<std::size_t>((shared ? 1 : B) * I * J), -8.f, 2.f, seed);
  auto x = test::random_floats(static_cast<std::size_t>(B * J), -5.f, 1.f, seed + 1);
  const auto coin = test::random_floats(M.size() + x.size(), 0.f, 1.f, seed + 2);
  for (std::size_t k = 0; k < M.size(); ++k) {
    if (coin[k] < mask_fraction) M[k] = kLogZero;
  }
  for (std::size_t k = 0; k < x.size(); ++k) {
    if (coin[M.size() + k] < mask_fraction) x[k] = kLogZero;
  }
  expect_matches_reference(B, I, J, shared, M, x);
}

TEST(LseContract, HandComputedValue) {
  // log(e^(0+0) + e^(1+1)) = log(1 + e^2)
  const Tensor y = lse_contract(Tensor::from_vector<float>({0.f, 1.f}, {1, 2}),
                                Tensor::from_vector<float>({0.f, 1.f}, {1, 2}));
  EXPECT_NEAR(y.to_vector<float>()[0], std::log(1.0 + std::exp(2.0)), 1e-6);
}

TEST(LseContract, RandomShapesPerBatchMatrices) {
  std::uint64_t seed = 1;
  for (std::int64_t B : {1, 3, 17})
    for (std::int64_t I : {1, 5, 64})
      for (std::int64_t J : {1, 2, 7, 33, 300}) run_random(B, I, J, false, seed++);
}

TEST(LseContract, RandomShapesSharedMatrix) {
  std::uint64_t seed = 100;
  for (std::int64_t B : {1, 4, 33})
    for (std::int64_t I : {1, 9, 128})
      for (std::int64_t J : {1, 3, 16, 129}) run_random(B, I, J, true, seed++);
}

TEST(LseContract, LargeShape) { run_random(8, 640, 640, true, 7); }

TEST(LseContract, LogZeroEntriesNeverMakeNaN) {
  for (float frac : {0.1f, 0.5f, 0.9f}) run_random(6, 20, 40, false, 11, frac);
}

TEST(LseContract, FullyMaskedRowGivesExactlyLogZero) {
  // Row 0 all masked in M; row 1 masked through x; row 2 has one live term.
  const std::vector<float> M = {kLogZero, kLogZero, kLogZero, 0.f, 0.f,
                                0.f,      kLogZero, kLogZero, 3.f};
  const std::vector<float> x = {kLogZero, kLogZero, 0.5f};
  const auto y = lse_contract(Tensor::from_vector(M, {3, 3}), Tensor::from_vector(x, {1, 3}))
                     .to_vector<float>();
  EXPECT_EQ(y[0], kLogZero);
  EXPECT_NEAR(y[1], 0.5f, 1e-6);
  EXPECT_NEAR(y[2], 3.5f, 1e-6);
}

TEST(LseContract, EmptyContractionGivesLogZero) {
  const auto y = lse_contract(Tensor::zeros({4, 0}, DType::f32), Tensor::zeros({2, 0}, DType::f32))
                     .to_vector<float>();
  ASSERT_EQ(y.size(), 8u);
  for (float v : y) EXPECT_EQ(v, kLogZero);
}

TEST(LseContract, LargeMagnitudesAreStable) {
  const std::vector<float> M = {5000.f, 5000.f, -5000.f, -5000.f};
  const auto y = lse_contract(Tensor::from_vector(M, {2, 2}),
                              Tensor::from_vector<float>({1000.f, 1000.f}, {1, 2}))
                     .to_vector<float>();
  EXPECT_NEAR(y[0], 6000.0 + std::log(2.0), 1e-3);
  EXPECT_NEAR(y[1], -4000.0 + std::log(2.0), 1e-3);
}

TEST(LseContract, RejectsBadArgumentsAndLeavesOutputUntouched) {
  const Tensor M = Tensor::zeros({2, 3}, DType::f32);
  const Tensor x = Tensor::zeros({4, 3}, DType::f32);
  Tensor y = Tensor::from_vector<float>(std::vector<float>(8, 42.f), {4, 2});
  auto expect_code = [&](const Tensor& m, const Tensor& xx, Tensor& yy, ErrorCode code,
                         const char* needle) {
    try {
      lse_contract(m, xx, yy);
      FAIL() << "expected " << error_code_name(code);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Tensor y_bad_shape = Tensor::zeros({4, 3}, DType::f32);
  expect_code(M, x, y_bad_shape, ErrorCode::shape_mismatch, "y must have shape [4, 2]");
  expect_code(Tensor::zeros({2, 4}, DType::f32), x, y, ErrorCode::shape_mismatch, "M");
  expect_code(Tensor::zeros({3, 2, 3}, DType::f32), x, y, ErrorCode::shape_mismatch, "M");
  expect_code(M, Tensor::zeros({4, 3}, DType::f64), y, ErrorCode::dtype_mismatch, "x");
  expect_code(M, Tensor::zeros({12}, DType::f32), y, ErrorCode::shape_mismatch, "x");
  expect_code(M, Tensor(), y, ErrorCode::invalid_argument, "x");
  for (float v : y.to_vector<float>()) EXPECT_EQ(v, 42.f);
}

}  // namespace
}  // namespace mpe
