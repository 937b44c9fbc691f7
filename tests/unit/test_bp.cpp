// Loopy belief propagation on the CPU: exact on trees (marginals, factor marginals, log Z and
// MAP against brute-force enumeration), fixed points on loopy graphs, batches, zeros, errors.
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>
#include <mpe/factor_graph.hpp>

#include "support/bp_ref.hpp"
#include "support/expect_marginals.hpp"
#include "support/errors.hpp"

namespace {
using mpe::test::expect_close;
using namespace mpe;
using bp::FactorGraph;

bp::Options cpu_options(bp::Method m = bp::Method::sum_product,
                        bp::Schedule s = bp::Schedule::flooding) {
  bp::Options o;
  o.device = Device::cpu();
  o.method = m;
  o.schedule = s;
  o.tol = 1e-12;
  o.max_iter = 500;
  return o;
}

struct TreeCase {
  bp::Schedule schedule;
  bp::Precision precision;
  double damping;
  double zero_fraction;
  double spread = 2.0;  // log-potentials in [-spread, spread]
  int max_card = 3;
};

class BpTreeExact : public ::testing::TestWithParam<TreeCase> {};

TEST_P(BpTreeExact, MarginalsFactorBeliefsAndLogZMatchEnumeration) {
  const TreeCase c = GetParam();
  const double tol = c.precision == bp::Precision::f32 ? 2e-4 : 1e-9;
  std::mt19937 rng(17);
  for (int trial = 0; trial < 12; ++trial) {
    const FactorGraph g =
        test::random_tree(rng, 3 + trial % 6, 3, c.max_card, c.spread, c.zero_fraction);
    const test::BpExact ex = test::bp_brute_force(g);
    if (ex.log_z == -std::numeric_limits<double>::infinity()) continue;
    bp::Options o = cpu_options(bp::Method::sum_product, c.schedule);
    o.precision = c.precision;
    o.damping = c.damping;
    o.tol = c.precision == bp::Precision::f32 ? 1e-6 : 1e-12;
    o.max_iter = 2000;
    const bp::Result r = bp::run(g, o);
    EXPECT_TRUE(r.converged) << "trial " << trial;
    expect_close(r.var_beliefs, ex.var_marginals, tol, "variable");
    expect_close(r.factor_beliefs, ex.factor_marginals, tol, "factor");
    EXPECT_NEAR(r.log_z, ex.log_z, tol * 10) << "trial " << trial;
    EXPECT_TRUE(r.map.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Schedules, BpTreeExact,
    ::testing::Values(TreeCase{bp::Schedule::flooding, bp::Precision::f64, 0.0, 0.0},
                      TreeCase{bp::Schedule::sequential, bp::Precision::f64, 0.0, 0.0},
                      TreeCase{bp::Schedule::flooding, bp::Precision::f64, 0.4, 0.0},
                      TreeCase{bp::Schedule::sequential, bp::Precision::f64, 0.3, 0.0},
                      TreeCase{bp::Schedule::flooding, bp::Precision::f64, 0.0, 0.25},
                      TreeCase{bp::Schedule::sequential, bp::Precision::f64, 0.0, 0.25},
                      TreeCase{bp::Schedule::flooding, bp::Precision::f32, 0.0, 0.0},
                      TreeCase{bp::Schedule::flooding, bp::Precision::f32, 0.0, 0.25},
                      // The CPU flooding kernel's probability form and its log-space fallback
                      // (zeros, tables wider than its range): binary trees take the pairwise
                      // blocks, wide tables mix both forms in one sweep.
                      TreeCase{bp::Schedule::flooding, bp::Precision::f64, 0.0, 0.0, 200.0, 3},
                      TreeCase{bp::Schedule::flooding, bp::Precision::f64, 0.0, 0.0, 200.0, 2},
                      TreeCase{bp::Schedule::flooding, bp::Precision::f64, 0.4, 0.25, 2.0, 2},
                      TreeCase{bp::Schedule::flooding, bp::Precision::f64, 0.0, 0.25, 2.0, 2},
                      TreeCase{bp::Schedule::flooding, bp::Precision::f32, 0.0, 0.0, 25.0, 2}));

TEST(BpTree, EvidenceGivesConditionalMarginalsAndLogOfTheClampedSum) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 10; ++trial) {
    const FactorGraph g = test::random_tree(rng, 7, 3, 3, 1.5);
    std::vector<int> ev(static_cast<std::size_t>(g.num_variables()), -1);
    ev[static_cast<std::size_t>(trial % g.num_variables())] = 1;
    ev[static_cast<std::size_t>((trial + 3) % g.num_variables())] = 0;
    const test::BpExact ex = test::bp_brute_force(g, ev);
    for (bp::Schedule s : {bp::Schedule::flooding, bp::Schedule::sequential}) {
      const bp::Result r = bp::run(g, cpu_options(bp::Method::sum_product, s), ev);
      EXPECT_TRUE(r.converged);
      expect_close(r.var_beliefs, ex.var_marginals, 1e-9, "variable");
      EXPECT_NEAR(r.log_z, ex.log_z, 1e-8);
    }
  }
}

TEST(BpTree, MaxProductFindsTheMapAssignment) {
  std::mt19937 rng(23);
  int checked = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const FactorGraph g = test::random_tree(rng, 4 + trial % 5, 3, 3, 2.0, trial % 2 ? 0.2 : 0.0);
    const test::BpExact ex = test::bp_brute_force(g);
    if (ex.second_best_gap < 1e-6) continue;  // ties: any maximiser is right
    for (bp::Schedule s : {bp::Schedule::flooding, bp::Schedule::sequential}) {
      const bp::Result r = bp::run(g, cpu_options(bp::Method::max_product, s));
      EXPECT_TRUE(r.converged);
      EXPECT_EQ(r.map, ex.map) << "trial " << trial;
      EXPECT_NEAR(r.map_log_score, ex.map_log_score, 1e-9);
      EXPECT_TRUE(std::isnan(r.log_z));
    }
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(BpTree, MaxProductWithEvidence) {
  std::mt19937 rng(3);
  const FactorGraph g = test::random_tree(rng, 8, 2, 3, 2.0);
  std::vector<int> ev(8, -1);
  ev[2] = 1;
  const test::BpExact ex = test::bp_brute_force(g, ev);
  ASSERT_GT(ex.second_best_gap, 1e-6);
  const bp::Result r = bp::run(g, cpu_options(bp::Method::max_product), ev);
  EXPECT_EQ(r.map, ex.map);
  EXPECT_EQ(r.map[2], 1);
}

// At a BP fixed point every factor belief marginalises onto its variables' beliefs.
void expect_fixed_point(const FactorGraph& g, const bp::Result& r, bool max_product, double tol) {
  for (int f = 0; f < g.num_factors(); ++f) {
    const bp::Factor& fac = g.factors[static_cast<std::size_t>(f)];
    std::int64_t stride = 1;
    for (int v : fac.vars) {
      const int k = g.cardinalities[static_cast<std::size_t>(v)];
      std::vector<double> m(static_cast<std::size_t>(k), 0.0);
      const std::vector<double>& b = r.factor_beliefs[static_cast<std::size_t>(f)];
      for (std::size_t t = 0; t < b.size(); ++t) {
        double& slot = m[static_cast<std::size_t>((static_cast<std::int64_t>(t) / stride) % k)];
        slot = max_product ? std::max(slot, b[t]) : slot + b[t];
      }
      double s = 0;
      for (double x : m) s += x;
      for (int x = 0; x < k; ++x) {
        EXPECT_NEAR(m[static_cast<std::size_t>(x)] / s,
                    r.var_beliefs[static_cast<std::size_t>(v)][static_cast<std::size_t>(x)], tol)
            << "factor " << f << " variable " << v << " state " << x;
      }
      stride *= k;
    }
  }
}

// The Bethe free energy recomputed here from the returned beliefs.
double bethe_log_z(const FactorGraph& g, const bp::Result& r) {
  std::vector<int> degree(static_cast<std::size_t>(g.num_variables()), 0);
  double s = 0;
  for (int f = 0; f < g.num_factors(); ++f) {
    const bp::Factor& fac = g.factors[static_cast<std::size_t>(f)];
    for (int v : fac.vars) ++degree[static_cast<std::size_t>(v)];
    const std::vector<double>& b = r.factor_beliefs[static_cast<std::size_t>(f)];
    for (std::size_t t = 0; t < b.size(); ++t) {
      if (b[t] > 0) s += b[t] * (fac.log_values[t] - std::log(b[t]));
    }
  }
  for (int v = 0; v < g.num_variables(); ++v) {
    double h = 0;
    for (double p : r.var_beliefs[static_cast<std::size_t>(v)]) h -= p > 0 ? p * std::log(p) : 0;
    s += (1 - degree[static_cast<std::size_t>(v)]) * h;
  }
  return s;
}

TEST(BpLoopy, FloodingAndSequentialReachTheSameFixedPoint) {
  std::mt19937 rng(11);
  for (int card : {2, 3}) {
    const FactorGraph g = test::random_grid(rng, 4, 3, card, 0.4);
    const bp::Result a = bp::run(g, cpu_options());
    const bp::Result b = bp::run(g, cpu_options(bp::Method::sum_product, bp::Schedule::sequential));
    ASSERT_TRUE(a.converged);
    ASSERT_TRUE(b.converged);
    expect_fixed_point(g, a, false, 1e-9);
    expect_fixed_point(g, b, false, 1e-9);
    expect_close(a.var_beliefs, b.var_beliefs, 1e-9, "flooding vs sequential");
    EXPECT_NEAR(a.log_z, bethe_log_z(g, a), 1e-9);
    EXPECT_NEAR(a.log_z, b.log_z, 1e-9);
    // Weak couplings: Bethe is close to, but not exactly, the true log Z.
    const test::BpExact ex = test::bp_brute_force(g);
    EXPECT_NEAR(a.log_z, ex.log_z, 0.05);
    // Damping changes the path, not the fixed point.
    bp::Options d = cpu_options();
    d.damping = 0.5;
    const bp::Result c = bp::run(g, d);
    ASSERT_TRUE(c.converged);
    expect_close(c.var_beliefs, a.var_beliefs, 1e-9, "damped");
    EXPECT_GT(c.iterations, a.iterations);
  }
}

TEST(BpLoopy, HigherOrderFactorsAndMaxProductFixedPoint) {
  std::mt19937 rng(29);
  std::uniform_real_distribution<double> val(-1.0, 1.0);
  FactorGraph g;
  for (int i = 0; i < 6; ++i) g.add_variable(2 + i % 2);
  const std::vector<std::vector<int>> scopes{{0, 1, 2}, {2, 3, 4}, {4, 5, 0}, {1, 3}, {5}};
  for (const auto& sc : scopes) {
    std::int64_t n = 1;
    for (int v : sc) n *= g.cardinalities[static_cast<std::size_t>(v)];
    std::vector<double> t(static_cast<std::size_t>(n));
    for (double& x : t) x = val(rng);
    g.add_log_factor(sc, t);
  }
  const bp::Result s = bp::run(g, cpu_options());
  ASSERT_TRUE(s.converged);
  expect_fixed_point(g, s, false, 1e-9);
  EXPECT_NEAR(s.log_z, bethe_log_z(g, s), 1e-9);
  const bp::Result m = bp::run(g, cpu_options(bp::Method::max_product));
  ASSERT_TRUE(m.converged);
  expect_fixed_point(g, m, true, 1e-9);
  EXPECT_NEAR(m.map_log_score, bp::log_score(g, m.map), 1e-12);
}

TEST(BpBatch, MembersMatchSeparateRuns) {
  std::mt19937 rng(31);
  const FactorGraph g = test::random_grid(rng, 3, 3, 2, 0.6);
  std::vector<bp::Instance> batch(4);
  batch[1].evidence.assign(9, -1);
  batch[1].evidence[4] = 1;
  batch[2].log_potentials.resize(g.factors.size());
  for (std::size_t f = 0; f < g.factors.size(); ++f) {
    for (double x : g.factors[f].log_values) batch[2].log_potentials[f].push_back(-x);
  }
  batch[3] = batch[2];
  batch[3].evidence.assign(9, -1);
  batch[3].evidence[0] = 0;
  for (bp::Method m : {bp::Method::sum_product, bp::Method::max_product}) {
    const bp::Options o = cpu_options(m);
    const std::vector<bp::Result> rs = bp::run_batch(g, batch, o);
    ASSERT_EQ(rs.size(), 4u);
    for (std::size_t b = 0; b < batch.size(); ++b) {
      FactorGraph gb = g;
      if (!batch[b].log_potentials.empty()) {
        for (std::size_t f = 0; f < g.factors.size(); ++f) {
          gb.factors[f].log_values = batch[b].log_potentials[f];
        }
      }
      const bp::Result one = bp::run(gb, o, batch[b].evidence);
      EXPECT_EQ(rs[b].iterations, one.iterations) << b;
      expect_close(rs[b].var_beliefs, one.var_beliefs, 1e-14, "batch");
      if (m == bp::Method::sum_product) {
        EXPECT_NEAR(rs[b].log_z, one.log_z, 1e-12);
      } else {
        EXPECT_EQ(rs[b].map, one.map);
      }
    }
  }
  EXPECT_TRUE(bp::run_batch(g, {}, cpu_options()).empty());
}

TEST(BpZeros, ContradictionGivesZeroBeliefsAndMinusInfinityWithoutNan) {
  FactorGraph g;
  g.add_variable(2);
  g.add_variable(2);
  g.add_factor({0, 1}, {1.0, 0.0, 0.0, 1.0});  // x0 == x1
  g.add_factor({0}, {1.0, 0.0});                // x0 = 0
  g.add_factor({1}, {0.0, 1.0});                // x1 = 1: impossible
  for (bp::Precision p : {bp::Precision::f64, bp::Precision::f32}) {
    bp::Options o = cpu_options();
    o.precision = p;
    const bp::Result r = bp::run(g, o);
    EXPECT_EQ(r.log_z, -std::numeric_limits<double>::infinity());
    for (const auto& b : r.var_beliefs) {
      for (double x : b) EXPECT_EQ(x, 0.0);
    }
  }
  // Without the contradiction the zeros pin the answer exactly.
  g.factors.pop_back();
  const bp::Result r = bp::run(g, cpu_options());
  EXPECT_NEAR(r.var_beliefs[1][0], 1.0, 1e-15);
  EXPECT_NEAR(r.log_z, 0.0, 1e-12);
  const bp::Result e = bp::run(g, cpu_options(), {-1, 1});  // evidence against the zeros
  EXPECT_EQ(e.log_z, -std::numeric_limits<double>::infinity());
}

TEST(BpErrors, BadOptionsEvidenceAndGraphs) {
  std::mt19937 rng(1);
  const FactorGraph g = test::random_tree(rng, 4, 2, 2, 1.0);
  auto with = [&](auto edit) {
    bp::Options o = cpu_options();
    edit(o);
    return o;
  };
  test::expect_error([&] { bp::run(g, with([](bp::Options& o) { o.damping = 1.0; })); },
                     ErrorCode::invalid_argument, "damping");
  test::expect_error([&] { bp::run(g, with([](bp::Options& o) { o.max_iter = 0; })); },
                     ErrorCode::invalid_argument, "max_iter");
  test::expect_error([&] { bp::run(g, with([](bp::Options& o) { o.tol = std::nan(""); })); },
                     ErrorCode::invalid_argument, "tol");
  test::expect_error(
      [&] {
        bp::run(g, with([](bp::Options& o) {
                  o.schedule = bp::Schedule::sequential;
                  o.device = Device::cuda(0);
                }));
      },
      ErrorCode::not_supported, "sequential");
  test::expect_error([&] { bp::run(g, cpu_options(), {0, 0}); }, ErrorCode::invalid_argument,
                     "evidence for 2 variables");
  test::expect_error([&] { bp::run(g, cpu_options(), {0, 5, -1, -1}); },
                     ErrorCode::invalid_argument, "variable 1");
  std::vector<bp::Instance> batch(2);
  batch[1].log_potentials.resize(g.factors.size());
  test::expect_error([&] { bp::run_batch(g, batch, cpu_options()); }, ErrorCode::invalid_argument,
                     "batch member 1");
  FactorGraph h;
  h.add_variable(2);
  test::expect_error([&] { h.add_variable(0); }, ErrorCode::invalid_argument, "cardinality");
  test::expect_error([&] { h.add_factor({0}, {0.5, -0.1}); }, ErrorCode::invalid_argument,
                     "entry 1");
  test::expect_error([&] { h.add_factor({0}, {0.5, std::nan("")}); },
                     ErrorCode::invalid_argument, "entry 1");
  test::expect_error([&] { h.add_log_factor({0}, {0.5}); }, ErrorCode::invalid_argument,
                     "1 table entries, expected 2");
  test::expect_error([&] { h.add_log_factor({0, 0}, {0, 0, 0, 0}); },
                     ErrorCode::invalid_argument, "twice");
  test::expect_error([&] { h.add_log_factor({1}, {0, 0}); }, ErrorCode::invalid_argument,
                     "out of range");
  test::expect_error(
      [&] { h.add_log_factor({0}, {0, std::numeric_limits<double>::infinity()}); },
      ErrorCode::invalid_argument, "entry 1");
  EXPECT_EQ(h.num_factors(), 0);  // nothing was added by the failed calls
  test::expect_error([] { bp::parse_schedule("random"); }, ErrorCode::invalid_argument,
                     "flooding");
}

}  // namespace
