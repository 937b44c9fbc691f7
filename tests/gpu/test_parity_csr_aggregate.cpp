// csr_aggregate: CUDA against the CPU twin, with guard bytes around the output.
#include <cmath>
#include <cstring>
#include <random>

#include <gtest/gtest.h>
#include <mpe/ops.hpp>

#include "backend.hpp"
#include "kernel_enums.hpp"
#include "support/gpu.hpp"
#include "support/guarded.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

constexpr Aggregation kAllAggs[] = {Aggregation::sum, Aggregation::mean, Aggregation::max,
                                    Aggregation::min, Aggregation::logsumexp};

void check_graph(const Csr& g_cpu, std::int64_t width, Aggregation agg, std::uint64_t seed) {
  SCOPED_TRACE(testing::Message() << "rows=" << g_cpu.num_rows << " width=" << width << " agg="
                                  << aggregation_name(agg) << " weighted=" << g_cpu.weighted());
  const Tensor x_cpu = Tensor::from_vector(
      test::random_floats(static_cast<std::size_t>(g_cpu.num_cols * width), -1.f, 1.f, seed),
      {g_cpu.num_cols, width});
  const auto want = csr_aggregate(g_cpu, x_cpu, agg).to_vector<float>();

  const Device gpu = Device::cuda(0);
  const Csr g = g_cpu.to(gpu);
  const Tensor x = x_cpu.to(gpu);
  test::GuardedOutput out(g.num_rows * width, gpu);
  // csr_aggregate is graph_mp with an edge-weight message and a plain update.
  kernels::GraphMpArgs args;
  args.row_offsets = g.row_offsets.data<std::int64_t>();
  args.col_indices = g.col_indices.data<std::int32_t>();
  args.weights = g.weighted() ? g.weights.data<float>() : nullptr;
  args.x = x.raw();
  args.y = out.data();
  args.rows = g.num_rows;
  args.width = width;
  args.agg = detail::to_kernel(agg, "test");
  detail::backend_for(gpu).graph_mp(gpu.index, args);
  const auto got = out.values();
  EXPECT_TRUE(out.guards_intact());
  const auto off = g_cpu.row_offsets.to_vector<std::int64_t>();
  const auto cols = g_cpu.col_indices.to_vector<std::int32_t>();
  const auto wts = g_cpu.weighted() ? g_cpu.weights.to_vector<float>() : std::vector<float>();
  const auto xv = x_cpu.to_vector<float>();
  for (std::int64_t i = 0; i < g.num_rows; ++i) {
    for (std::int64_t f = 0; f < width; ++f) {
      const auto k = static_cast<std::size_t>(i * width + f);
      // Short rows sum in the CPU's edge order (equal up to FMA contraction); long rows sum
      // eight slices, so the bound grows with Σ|w·x| (the rounding a reordering can cause).
      double abs_sum = 0;
      for (std::int64_t e = off[i]; e < off[i + 1]; ++e) {
        const double w = wts.empty() ? 1.0 : wts[static_cast<std::size_t>(e)];
        abs_sum += std::fabs(w * xv[static_cast<std::size_t>(cols[e] * width + f)]);
      }
      const double tol = 1e-6 * (1.0 + double(off[i + 1] - off[i])) + 8e-6 * abs_sum;
      ASSERT_NEAR(got[k], want[k], tol) << "row " << i << " feature " << f;
    }
  }
  // The public API on device tensors: same numbers, and bit-identical run to run.
  const auto api1 = csr_aggregate(g, x, agg).to_vector<float>();
  const auto api2 = csr_aggregate(g, x, agg).to_vector<float>();
  ASSERT_EQ(0, std::memcmp(api1.data(), api2.data(), api1.size() * sizeof(float)));
  ASSERT_EQ(0, std::memcmp(api1.data(), got.data(), got.size() * sizeof(float)));
}

TEST(GpuParityCsrAggregate, RandomGraphsAllWidths) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::uint64_t seed = 1;
  for (bool weighted : {false, true})
    for (std::int64_t width : {1, 2, 3, 4, 5, 8, 32, 33, 64, 128, 130, 256})
      for (Aggregation agg : kAllAggs) {
        const Csr g = test::random_csr(500, 400, 7.0, weighted, seed++);
        check_graph(g, width, agg, seed++);
      }
}

TEST(GpuParityCsrAggregate, EdgeCases) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  // Every row empty; one node with a self-loop; one row holding every edge.
  for (Aggregation agg : kAllAggs) {
    check_graph(test::make_csr(5, 5, {0, 0, 0, 0, 0, 0}, {}), 4, agg, 1);
    check_graph(test::make_csr(1, 1, {0, 1}, {0}, {0.5f}), 1, agg, 2);
    std::vector<std::int64_t> off(65, 9000);
    off[0] = 0;
    std::vector<std::int32_t> idx(9000);
    for (std::int32_t k = 0; k < 9000; ++k) idx[static_cast<std::size_t>(k)] = (k * 13) % 64;
    check_graph(test::make_csr(64, 64, off, idx), 16, agg, 3);
    check_graph(test::make_csr(64, 64, off, idx), 1, agg, 4);
  }
}

TEST(GpuParityCsrAggregate, LongRowsMixedWithShortOnes) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  // Degrees around the long-row threshold (512) and far above it, between short and empty rows.
  const std::vector<std::int64_t> degrees = {600, 3, 0, 511, 512, 20000, 1, 7000, 0, 513, 50};
  std::vector<std::int64_t> off{0};
  std::vector<std::int32_t> idx;
  std::vector<float> w;
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::int32_t> col(0, 999);
  std::uniform_real_distribution<float> wd(-2.f, 2.f);
  for (std::int64_t d : degrees) {
    for (std::int64_t k = 0; k < d; ++k) {
      idx.push_back(col(rng));
      w.push_back(wd(rng));
    }
    off.push_back(static_cast<std::int64_t>(idx.size()));
  }
  const auto rows = static_cast<std::int64_t>(degrees.size());
  const Csr weighted = test::make_csr(rows, 1000, off, idx, w);
  const Csr plain = test::make_csr(rows, 1000, off, idx);
  std::uint64_t seed = 40;
  for (std::int64_t width : {1, 4, 33, 130, 256})
    for (Aggregation agg : kAllAggs) {
      check_graph(weighted, width, agg, seed++);
      check_graph(plain, width, agg, seed++);
    }
}

TEST(GpuParityCsrAggregate, LargeGraph) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Csr g = test::random_csr(200000, 200000, 16.0, true, 11);
  check_graph(g, 64, Aggregation::sum, 12);
  check_graph(g, 7, Aggregation::max, 13);
}

}  // namespace
}  // namespace mpe
