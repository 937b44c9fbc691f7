// The CPU flooding kernel's shaped-factor blocks (factors whose variables all have K states:
// K×K pairwise tables, K-state triples; kernels/cpu/bp_body.hpp shape_block): exact on forests
// against brute-force enumeration of each tree, and on loopy grids the same fixed point as the
// log-space sequential schedule.
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>
#include <omp.h>
#include <mpe/factor_graph.hpp>

#include "support/bp_ref.hpp"
#include "support/expect_marginals.hpp"

namespace {
using mpe::test::expect_close;
using namespace mpe;
using bp::FactorGraph;

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// `trees` random trees of K-state variables side by side in one graph (enough factors of one
// shape for several blocks), with each tree's brute-force answer.
struct Forest {
  FactorGraph g;
  std::vector<std::vector<double>> marginals, factor_marginals;
  double log_z = 0;
  std::vector<int> map;
  double min_gap = std::numeric_limits<double>::infinity();
};

Forest forest(std::mt19937& rng, int trees, int k, int max_arity, double spread, double zeros) {
  Forest fo;
  while (trees > 0) {
    const FactorGraph t = test::random_tree(rng, 4 + trees % 3, max_arity, k, spread, zeros, k);
    const test::BpExact ex = test::bp_brute_force(t);
    if (ex.log_z == kNegInf) continue;  // a contradiction would zero the whole forest
    --trees;
    const int base = fo.g.num_variables();
    for (int v = 0; v < t.num_variables(); ++v) fo.g.add_variable(k);
    for (const bp::Factor& f : t.factors) {
      std::vector<int> vars;
      for (int v : f.vars) vars.push_back(base + v);
      fo.g.add_log_factor(vars, f.log_values);
    }
    fo.marginals.insert(fo.marginals.end(), ex.var_marginals.begin(), ex.var_marginals.end());
    fo.factor_marginals.insert(fo.factor_marginals.end(), ex.factor_marginals.begin(),
                               ex.factor_marginals.end());
    fo.log_z += ex.log_z;
    fo.map.insert(fo.map.end(), ex.map.begin(), ex.map.end());
    fo.min_gap = std::min(fo.min_gap, ex.second_best_gap);
  }
  return fo;
}

bp::Options options(bp::Method m, double damping, bp::Precision p = bp::Precision::f64) {
  bp::Options o;
  o.device = Device::cpu();
  o.method = m;
  o.damping = damping;
  o.precision = p;
  o.tol = p == bp::Precision::f32 ? 1e-6 : 1e-12;
  o.max_iter = 2000;
  return o;
}

struct ShapeCase {
  int k;
  int max_arity;     // 3: triples of K states (K^3 <= 64 take the blocks; 125 does not)
  double damping;
  double zeros;      // share of −inf entries (those factors take the log-space fallback)
  double spread;     // 200: tables too wide for the probability form (fallback)
};

class BpShapedForest : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(BpShapedForest, MarginalsLogZAndMapMatchEnumeration) {
  const ShapeCase c = GetParam();
  std::mt19937 rng(static_cast<std::uint32_t>(100 * c.k + c.max_arity));
  for (int trial = 0; trial < 3; ++trial) {
    const Forest fo = forest(rng, 24, c.k, c.max_arity, c.spread, c.zeros);
    const bp::Result r = bp::run(fo.g, options(bp::Method::sum_product, c.damping));
    EXPECT_TRUE(r.converged) << "trial " << trial;
    expect_close(r.var_beliefs, fo.marginals, 1e-9, "variable");
    expect_close(r.factor_beliefs, fo.factor_marginals, 1e-9, "factor");
    EXPECT_NEAR(r.log_z, fo.log_z, 1e-8) << "trial " << trial;
    const bp::Result m = bp::run(fo.g, options(bp::Method::max_product, c.damping));
    EXPECT_TRUE(m.converged) << "trial " << trial;
    if (fo.min_gap > 1e-6) {
      EXPECT_EQ(m.map, fo.map) << "trial " << trial;
    }
    // float32 messages: the same answers to single precision.
    if (c.spread < 20) {
      const bp::Result f =
          bp::run(fo.g, options(bp::Method::sum_product, c.damping, bp::Precision::f32));
      expect_close(f.var_beliefs, fo.marginals, 2e-4, "variable f32");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, BpShapedForest,
    ::testing::Values(ShapeCase{3, 2, 0.0, 0.0, 2.0}, ShapeCase{4, 2, 0.0, 0.0, 2.0},
                      ShapeCase{5, 2, 0.0, 0.0, 2.0}, ShapeCase{3, 3, 0.0, 0.0, 2.0},
                      ShapeCase{2, 3, 0.0, 0.0, 2.0}, ShapeCase{4, 3, 0.4, 0.0, 2.0},
                      ShapeCase{3, 3, 0.3, 0.2, 2.0}, ShapeCase{5, 2, 0.0, 0.2, 2.0},
                      ShapeCase{3, 2, 0.0, 0.0, 200.0}));

// Loopy grids of K-state variables (pairwise K×K blocks, more than one block): flooding (the
// shaped blocks) and the sequential schedule (log space, factor by factor) meet at one fixed
// point, undamped and damped.
TEST(BpShapedLoopy, FloodingMatchesSequentialLogSpace) {
  std::mt19937 rng(7);
  for (int k : {3, 4, 5}) {
    const FactorGraph g = test::random_grid(rng, 7, 6, k, 0.4);
    bp::Options seq = options(bp::Method::sum_product, 0.0);
    seq.schedule = bp::Schedule::sequential;
    const bp::Result want = bp::run(g, seq);
    ASSERT_TRUE(want.converged) << k;
    for (double damping : {0.0, 0.5}) {
      const bp::Result got = bp::run(g, options(bp::Method::sum_product, damping));
      ASSERT_TRUE(got.converged) << k;
      expect_close(got.var_beliefs, want.var_beliefs, 1e-9, "flooding vs sequential");
      expect_close(got.factor_beliefs, want.factor_beliefs, 1e-9, "factor beliefs");
      EXPECT_NEAR(got.log_z, want.log_z, 1e-9) << k;
    }
  }
}

// Evidence on trees whose variables all have K states (the var step's branch-free totals, which
// tell the blocks whether any zero count exists): the conditional marginals and the log of
// the clamped sum, exactly.
TEST(BpShapedEvidence, ConditionalMarginalsMatchEnumeration) {
  std::mt19937 rng(23);
  for (int k : {2, 3}) {
    for (int trial = 0; trial < 4; ++trial) {
      const FactorGraph g = test::random_tree(rng, 7, 3, k, 1.5, 0.0, k);
      std::vector<int> ev(static_cast<std::size_t>(g.num_variables()), -1);
      ev[static_cast<std::size_t>(trial % g.num_variables())] = trial % k;
      const test::BpExact ex = test::bp_brute_force(g, ev);
      const bp::Result r = bp::run(g, options(bp::Method::sum_product, 0.0), ev);
      EXPECT_TRUE(r.converged);
      expect_close(r.var_beliefs, ex.var_marginals, 1e-9, "variable");
      EXPECT_NEAR(r.log_z, ex.log_z, 1e-9) << k << " " << trial;
    }
  }
}

// Above the kernel's parallel threshold (512 variables) two threads sum each variable's messages
// by gathering them (one_var_totals_k for 2 and 3 states) and report whether any zero term
// exists; evidence and zero table entries leave zero counts, which the factor step must then
// read. Against
// enumeration of each tree, with two threads set here whatever the machine's default.
TEST(BpShapedThreads, TwoThreadsWithEvidenceMatchEnumeration) {
  std::mt19937 rng(29);
  for (int k : {2, 3}) {
    FactorGraph g;
    std::vector<int> ev;
    std::vector<std::vector<double>> want;
    double log_z = 0;
    while (g.num_variables() < 700) {
      const FactorGraph t = test::random_tree(rng, 6, 2, k, 1.5, 0.25, k);  // zero entries too
      std::vector<int> tev(static_cast<std::size_t>(t.num_variables()), -1);
      tev[rng() % tev.size()] = static_cast<int>(rng() % static_cast<unsigned>(k));
      const test::BpExact ex = test::bp_brute_force(t, tev);
      if (ex.log_z == kNegInf) continue;
      const int base = g.num_variables();
      for (int v = 0; v < t.num_variables(); ++v) g.add_variable(k);
      for (const bp::Factor& f : t.factors) {
        std::vector<int> vars;
        for (int v : f.vars) vars.push_back(base + v);
        g.add_log_factor(vars, f.log_values);
      }
      ev.insert(ev.end(), tev.begin(), tev.end());
      want.insert(want.end(), ex.var_marginals.begin(), ex.var_marginals.end());
      log_z += ex.log_z;
    }
    const int threads = omp_get_max_threads();
    omp_set_num_threads(2);
    const bp::Result r = bp::run(g, options(bp::Method::sum_product, 0.0), ev);
    omp_set_num_threads(threads);
    EXPECT_TRUE(r.converged);
    expect_close(r.var_beliefs, want, 1e-9, "variable");
    EXPECT_NEAR(r.log_z, log_z, 1e-8) << k;
  }
}

// A batch whose members bring their own tables (one lane-major copy of the shaped tables per
// member) gives what each member gives alone.
TEST(BpShapedBatch, MembersWithTheirOwnTablesMatchSeparateRuns) {
  std::mt19937 rng(5);
  const FactorGraph g = test::random_grid(rng, 8, 5, 3, 0.5);
  std::vector<bp::Instance> batch(3);
  batch[1].log_potentials.resize(g.factors.size());
  for (std::size_t f = 0; f < g.factors.size(); ++f) {
    for (double x : g.factors[f].log_values) batch[1].log_potentials[f].push_back(-x);
  }
  batch[2] = batch[1];
  batch[2].evidence.assign(static_cast<std::size_t>(g.num_variables()), -1);
  batch[2].evidence[7] = 2;
  const bp::Options o = options(bp::Method::sum_product, 0.0);
  const std::vector<bp::Result> rs = bp::run_batch(g, batch, o);
  ASSERT_EQ(rs.size(), batch.size());
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
    EXPECT_NEAR(rs[b].log_z, one.log_z, 1e-12) << b;
  }
}

}  // namespace
