// csr_aggregate on the CPU against the float64 reference.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>
#include <mpe/ops.hpp>

#include "support/reference.hpp"

namespace mpe {
namespace {

constexpr Aggregation kAllAggs[] = {Aggregation::sum, Aggregation::mean, Aggregation::max,
                                    Aggregation::min};

void expect_matches_reference(const Csr& g, std::int64_t width, Aggregation agg,
                              std::uint64_t seed) {
  const auto xv =
      test::random_floats(static_cast<std::size_t>(g.num_cols * width), -1.f, 1.f, seed);
  const Tensor y = csr_aggregate(g, Tensor::from_vector(xv, {g.num_cols, width}), agg);
  ASSERT_EQ(y.shape(), (Shape{g.num_rows, width}));
  const auto got = y.to_vector<float>();
  const auto want = test::csr_aggregate_ref(g, xv, width, agg);
  const auto off = g.row_offsets.to_vector<std::int64_t>();
  for (std::int64_t i = 0; i < g.num_rows; ++i) {
    const double deg = double(off[i + 1] - off[i]);
    for (std::int64_t f = 0; f < width; ++f) {
      const auto k = static_cast<std::size_t>(i * width + f);
      const double tol = 1e-6 * (1.0 + 2.0 * deg);
      ASSERT_NEAR(got[k], want[k], tol) << aggregation_name(agg) << " row " << i << " f " << f;
    }
  }
}

TEST(CsrAggregate, RandomGraphsAllAggregations) {
  std::uint64_t seed = 1;
  for (bool weighted : {false, true})
    for (std::int64_t width : {1, 3, 4, 17, 64})
      for (Aggregation agg : kAllAggs) {
        const Csr g = test::random_csr(200, 150, 6.0, weighted, seed++);
        expect_matches_reference(g, width, agg, seed++);
      }
}

TEST(CsrAggregate, LogSumExpIsTheMessagePassingOne) {
  std::uint64_t seed = 101;
  for (std::int64_t width : {1, 4, 17}) {
    const Csr g = test::random_csr(200, 150, 6.0, true, seed++);
    expect_matches_reference(g, width, Aggregation::logsumexp, seed++);
  }
}

TEST(CsrAggregate, LargeRandomGraph) {
  const Csr g = test::random_csr(20000, 20000, 12.0, true, 5);
  expect_matches_reference(g, 32, Aggregation::sum, 6);
  expect_matches_reference(g, 32, Aggregation::max, 7);
}

TEST(CsrAggregate, EmptyRowsGiveZeroForEveryAggregation) {
  // Rows 0 and 2 are empty; row 1 has two edges.
  const Csr g = test::make_csr(3, 2, {0, 0, 2, 2}, {0, 1}, {2.f, -1.f});
  const Tensor x = Tensor::from_vector<float>({1.f, 10.f, 3.f, 30.f}, {2, 2});
  for (Aggregation agg : kAllAggs) {
    const auto y = csr_aggregate(g, x, agg).to_vector<float>();
    EXPECT_EQ(y[0], 0.f);
    EXPECT_EQ(y[1], 0.f);
    EXPECT_EQ(y[4], 0.f);
    EXPECT_EQ(y[5], 0.f);
  }
  const auto sum = csr_aggregate(g, x, Aggregation::sum).to_vector<float>();
  EXPECT_FLOAT_EQ(sum[2], 2.f * 1.f - 1.f * 3.f);
  EXPECT_FLOAT_EQ(sum[3], 2.f * 10.f - 1.f * 30.f);
  const auto mx = csr_aggregate(g, x, Aggregation::max).to_vector<float>();
  EXPECT_FLOAT_EQ(mx[2], 2.f);
  EXPECT_FLOAT_EQ(mx[3], 20.f);
  const auto mn = csr_aggregate(g, x, Aggregation::min).to_vector<float>();
  EXPECT_FLOAT_EQ(mn[2], -3.f);
  EXPECT_FLOAT_EQ(mn[3], -30.f);
  const auto mean = csr_aggregate(g, x, Aggregation::mean).to_vector<float>();
  EXPECT_FLOAT_EQ(mean[2], -0.5f);
}

TEST(CsrAggregate, GraphWithoutEdges) {
  const Csr g = test::make_csr(4, 4, {0, 0, 0, 0, 0}, {});
  const auto y =
      csr_aggregate(g, Tensor::from_vector(std::vector<float>(8, 1.f), {4, 2}), Aggregation::max)
          .to_vector<float>();
  for (float v : y) EXPECT_EQ(v, 0.f);
}

TEST(CsrAggregate, OneRowHoldsEveryEdge) {
  std::vector<std::int64_t> off(101, 5000);
  off[0] = 0;
  std::vector<std::int32_t> idx(5000);
  for (std::int32_t k = 0; k < 5000; ++k) idx[static_cast<std::size_t>(k)] = (k * 37) % 100;
  const Csr g = test::make_csr(100, 100, off, idx);
  for (Aggregation agg : kAllAggs) expect_matches_reference(g, 8, agg, 3);
}

TEST(CsrAggregate, SingleNodeWithSelfLoop) {
  const Csr g = test::make_csr(1, 1, {0, 1}, {0}, {0.5f});
  const auto y = csr_aggregate(g, Tensor::from_vector<float>({4.f}, {1, 1}), Aggregation::sum)
                     .to_vector<float>();
  EXPECT_EQ(y[0], 2.f);
}

TEST(CsrAggregate, DeterministicBitForBit) {
  const Csr g = test::random_csr(3000, 3000, 20.0, true, 9);
  const Tensor x = Tensor::from_vector(test::random_floats(3000 * 16, -1.f, 1.f, 10), {3000, 16});
  const auto a = csr_aggregate(g, x, Aggregation::sum).to_vector<float>();
  const auto b = csr_aggregate(g, x, Aggregation::sum).to_vector<float>();
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

TEST(CsrAggregate, RejectsBadArguments) {
  const Csr g = test::make_csr(2, 3, {0, 1, 2}, {0, 2});
  auto code_of = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::internal;
  };
  const Tensor x = Tensor::zeros({3, 4}, DType::f32);
  EXPECT_EQ(code_of([&] {
              csr_aggregate(g, Tensor::zeros({2, 4}, DType::f32), Aggregation::sum);
            }),
            ErrorCode::shape_mismatch);
  EXPECT_EQ(code_of([&] {
              csr_aggregate(g, Tensor::zeros({3, 4}, DType::f64), Aggregation::sum);
            }),
            ErrorCode::dtype_mismatch);
  Tensor y_bad = Tensor::zeros({2, 5}, DType::f32);
  EXPECT_EQ(code_of([&] { csr_aggregate(g, x, Aggregation::sum, y_bad); }),
            ErrorCode::shape_mismatch);
  const Csr broken = test::make_csr(2, 3, {0, 1, 5}, {0, 2});
  EXPECT_EQ(code_of([&] { csr_aggregate(broken, x, Aggregation::sum); }), ErrorCode::invalid_graph);
  EXPECT_EQ(code_of([] { parse_aggregation("median"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(parse_aggregation("max"), Aggregation::max);
}

}  // namespace
}  // namespace mpe
