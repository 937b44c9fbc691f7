// Loopy BP on CUDA against the CPU twin: the binary pairwise kernel and the per-edge kernel
// (pairwise with more states, higher-order, unary), sum and max, float64 and float32, damping,
// zeros, batches with per-member evidence and potentials; fixed sweep counts (tol 0) and runs
// to convergence (same sweep counts, beliefs, log Z and MAP).
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>
#include <mpe/factor_graph.hpp>

#include "support/bp_ref.hpp"
#include "support/gpu.hpp"

namespace mpe {
namespace {

using bp::FactorGraph;

// Grid of binary variables plus higher-order and larger-state factors hung on it.
FactorGraph mixed_graph(std::mt19937& rng) {
  FactorGraph g = test::random_grid(rng, 5, 4, 2, 0.7);
  std::uniform_real_distribution<double> val(-1.0, 1.0);
  const int a = g.add_variable(3);
  const int b = g.add_variable(4);
  auto add = [&](std::vector<int> vars, double zero_fraction) {
    std::int64_t n = 1;
    for (int v : vars) n *= g.cardinalities[static_cast<std::size_t>(v)];
    std::vector<double> t(static_cast<std::size_t>(n));
    for (double& x : t) x = val(rng) < -1.0 + 2 * zero_fraction ? -std::numeric_limits<double>::infinity() : val(rng);
    t[0] = 0.0;
    g.add_log_factor(std::move(vars), std::move(t));
  };
  add({a, 0}, 0.2);
  add({3, a, b}, 0.2);
  add({b}, 0.0);
  add({5, 6, 7, 8}, 0.1);
  add({b, 19}, 0.0);
  return g;
}

void expect_same(const bp::Result& gpu, const bp::Result& cpu, double tol, const std::string& what) {
  EXPECT_EQ(gpu.iterations, cpu.iterations) << what;
  EXPECT_EQ(gpu.converged, cpu.converged) << what;
  ASSERT_EQ(gpu.var_beliefs.size(), cpu.var_beliefs.size());
  for (std::size_t v = 0; v < cpu.var_beliefs.size(); ++v) {
    for (std::size_t x = 0; x < cpu.var_beliefs[v].size(); ++x) {
      ASSERT_FALSE(std::isnan(gpu.var_beliefs[v][x])) << what;
      EXPECT_NEAR(gpu.var_beliefs[v][x], cpu.var_beliefs[v][x], tol) << what << " var " << v;
    }
  }
  for (std::size_t f = 0; f < cpu.factor_beliefs.size(); ++f) {
    for (std::size_t t = 0; t < cpu.factor_beliefs[f].size(); ++t) {
      EXPECT_NEAR(gpu.factor_beliefs[f][t], cpu.factor_beliefs[f][t], tol) << what << " factor " << f;
    }
  }
  if (std::isfinite(cpu.log_z)) {
    EXPECT_NEAR(gpu.log_z, cpu.log_z, tol * 100) << what;
  }
  EXPECT_EQ(gpu.map, cpu.map) << what;
}

TEST(GpuParityBp, SweepsMatchTheCpuForEveryKernelAndMode) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::mt19937 rng(7);
  const FactorGraph g = mixed_graph(rng);
  std::vector<bp::Instance> batch(3);
  batch[1].evidence.assign(static_cast<std::size_t>(g.num_variables()), -1);
  batch[1].evidence[2] = 1;
  batch[1].evidence[20] = 2;
  batch[2].log_potentials.resize(g.factors.size());
  for (std::size_t f = 0; f < g.factors.size(); ++f) {
    for (double x : g.factors[f].log_values) batch[2].log_potentials[f].push_back(0.5 * x);
  }
  for (bp::Precision p : {bp::Precision::f64, bp::Precision::f32}) {
    for (bp::Method m : {bp::Method::sum_product, bp::Method::max_product}) {
      for (double damping : {0.0, 0.3}) {
        for (int sweeps : {1, 7}) {
          bp::Options o;
          o.method = m;
          o.precision = p;
          o.damping = damping;
          o.tol = 0;
          o.max_iter = sweeps;
          o.device = Device::cpu();
          const auto cpu = bp::run_batch(g, batch, o);
          o.device = Device::cuda(0);
          const auto gpu = bp::run_batch(g, batch, o);
          for (std::size_t b = 0; b < batch.size(); ++b) {
            expect_same(gpu[b], cpu[b], p == bp::Precision::f64 ? 1e-11 : 2e-5,
                        std::string(bp::precision_name(p)) + " " + bp::method_name(m) +
                            " damping " + std::to_string(damping) + " sweeps " +
                            std::to_string(sweeps) + " member " + std::to_string(b));
          }
        }
      }
    }
  }
}

TEST(GpuParityBp, ConvergedRunsAndLargeBatchesAgree) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::mt19937 rng(19);
  const FactorGraph g = test::random_grid(rng, 12, 10, 2, 0.5);
  std::vector<bp::Instance> batch(300);  // members stop at different sweeps
  std::normal_distribution<double> n01(0.0, 1.0);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    batch[b].log_potentials.resize(g.factors.size());
    for (std::size_t f = 0; f < g.factors.size(); ++f) {
      for (double x : g.factors[f].log_values) {
        batch[b].log_potentials[f].push_back(x * (0.5 + 0.004 * static_cast<double>(b)) + 0.1 * n01(rng));
      }
    }
    if (b % 3 == 1) {
      batch[b].evidence.assign(120, -1);
      batch[b].evidence[b % 120] = static_cast<int>(b % 2);
    }
  }
  bp::Options o;
  o.tol = 1e-10;
  o.max_iter = 400;
  o.factor_beliefs = false;
  o.device = Device::cpu();
  const auto cpu = bp::run_batch(g, batch, o);
  o.device = Device::cuda(0);
  const auto gpu = bp::run_batch(g, batch, o);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    expect_same(gpu[b], cpu[b], 1e-9, "member " + std::to_string(b));
  }
  // Trees with zeros through the per-edge kernel: exact on both.
  for (int trial = 0; trial < 5; ++trial) {
    const FactorGraph t = test::random_tree(rng, 8, 3, 3, 2.0, 0.2);
    const test::BpExact ex = test::bp_brute_force(t);
    if (!std::isfinite(ex.log_z)) continue;
    bp::Options ot;
    ot.tol = 1e-12;
    ot.device = Device::cuda(0);
    const bp::Result r = bp::run(t, ot);
    EXPECT_NEAR(r.log_z, ex.log_z, 1e-9);
    for (std::size_t v = 0; v < ex.var_marginals.size(); ++v) {
      for (std::size_t x = 0; x < ex.var_marginals[v].size(); ++x) {
        EXPECT_NEAR(r.var_beliefs[v][x], ex.var_marginals[v][x], 1e-9);
      }
    }
  }
}

}  // namespace
}  // namespace mpe
