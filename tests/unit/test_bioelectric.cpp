// Bioelectric diffusion: float64 reference, conservation without leak or clamps, clamps, errors.
#include <cmath>
#include <numeric>

#include <gtest/gtest.h>
#include <mpe/bioelectric.hpp>

#include "support/errors.hpp"
#include "support/graph_mp_ref.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

// A symmetric random graph with positive conductances (each junction stored both ways).
Csr random_junctions(std::int64_t n, std::uint64_t seed) {
  const Csr r = test::random_csr(n, n, 3.0, false, seed);
  const Coo coo = csr_to_coo(r);
  Coo sym;
  sym.num_rows = sym.num_cols = n;
  const auto g = test::random_floats(coo.rows.size(), 0.1f, 1.f, seed + 1);
  for (std::size_t e = 0; e < coo.rows.size(); ++e) {
    if (coo.rows[e] == coo.cols[e]) continue;
    sym.rows.push_back(coo.rows[e]);
    sym.cols.push_back(coo.cols[e]);
    sym.weights.push_back(g[e]);
    sym.rows.push_back(coo.cols[e]);
    sym.cols.push_back(coo.rows[e]);
    sym.weights.push_back(g[e]);
  }
  return csr_from_coo(sym);
}

TEST(Bioelectric, MatchesFloat64ReferenceWithLeakAndClamps) {
  const Csr g = random_junctions(50, 3);
  const auto v0 = test::random_floats(50, -70.f, -20.f, 4);
  std::vector<std::uint8_t> clamped(50, 0);
  clamped[3] = clamped[17] = 1;
  bio::DiffusionParams p{0.05f, 0.2f, -60.f};
  Tensor v = Tensor::from_vector(v0, {50});
  bio::diffuse(g, v, p, 80, clamped);
  const auto want = test::diffuse_ref(g, test::to_double(v0), p.dt, p.leak, p.v_rest, 80, clamped);
  const auto got = v.to_vector<float>();
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 2e-3) << "cell " << i;
  EXPECT_EQ(got[3], v0[3]);
  EXPECT_EQ(got[17], v0[17]);
}

TEST(Bioelectric, ConservesChargeAndEqualisesWithoutLeakOrClamps) {
  const Csr g = bio::grid_junctions(12, 10, 0.8f);
  EXPECT_EQ(g.nnz(), 2 * (11 * 10 + 12 * 9));
  std::vector<float> v0(120, 0.f);
  v0[0] = 100.f;
  v0[55] = -40.f;
  const double total0 = std::accumulate(v0.begin(), v0.end(), 0.0);
  Tensor v = Tensor::from_vector(v0, {120});
  bio::diffuse(g, v, {0.2f, 0.f, 0.f}, 3000);  // odd and even step counts both end in `v`
  bio::diffuse(g, v, {0.2f, 0.f, 0.f}, 1);
  const auto got = v.to_vector<float>();
  const double total = std::accumulate(got.begin(), got.end(), 0.0);
  EXPECT_NEAR(total, total0, 1e-3);
  for (float x : got) EXPECT_NEAR(x, total0 / 120, 0.05);  // a connected sheet equalises
}

TEST(Bioelectric, ZeroStepsChangeNothingAndBadInputIsRejected) {
  const Csr g = bio::grid_junctions(2, 2);
  const std::vector<float> v0{1.f, 2.f, 3.f, 4.f};
  Tensor v = Tensor::from_vector(v0, {4});
  bio::diffuse(g, v, {}, 0);
  EXPECT_EQ(v.to_vector<float>(), v0);
  using test::expect_error;
  expect_error([&] { bio::diffuse(g, v, {0.f, 0.f, 0.f}, 1); }, ErrorCode::invalid_argument, "dt");
  expect_error(
      [&] {
        bio::diffuse(g, v, {0.1f, -1.f, 0.f}, 1);
      },
      ErrorCode::invalid_argument, "leak");
  expect_error([&] { bio::diffuse(g, v, {}, -1); }, ErrorCode::invalid_argument, "steps");
  expect_error([&] { bio::diffuse(g, v, {}, 1, {1, 0}); }, ErrorCode::shape_mismatch, "clamped");
  Tensor short_v = Tensor::zeros({3}, DType::f32);
  expect_error([&] { bio::diffuse(g, short_v, {}, 1); }, ErrorCode::shape_mismatch, "voltage");
  Csr neg = g;
  std::vector<float> w(static_cast<std::size_t>(g.nnz()), 1.f);
  w[2] = -0.5f;
  neg.weights = Tensor::from_vector(w, {g.nnz()});
  expect_error([&] { bio::diffuse(neg, v, {}, 1); }, ErrorCode::invalid_argument, "junction 2");
  expect_error(
      [&] {
        bio::diffuse(test::make_csr(1, 2, {0, 1}, {1}), v, {}, 1);
      },
      ErrorCode::invalid_graph, "square");
  expect_error([] { bio::grid_junctions(-1, 2); }, ErrorCode::invalid_argument, "grid_junctions");
  EXPECT_EQ(v.to_vector<float>(), v0);
}

}  // namespace
}  // namespace mpe
