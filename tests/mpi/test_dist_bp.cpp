// Flooding loopy BP with the factors split over the ranks, against bp::run on the whole graph
// in one process (every rank computes that reference itself): bit-equal messages give
// bit-equal beliefs, log Z, MAP, iteration counts and changes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include <mpe/dist_models.hpp>

#include "support/bp_ref.hpp"

namespace mpe {
namespace {

dist::Communicator& W() { return *dist::world(); }

std::vector<dist::PartitionMethod> methods() {
  std::vector<dist::PartitionMethod> m{dist::PartitionMethod::contiguous};
  if (dist::metis_built()) m.push_back(dist::PartitionMethod::metis);
  return m;
}

// A loopy graph with every kind of factor: a grid of `card`-state variables, plus triple
// factors over random variables and a few −inf entries (the log-space fallback).
bp::FactorGraph mixed_graph(std::uint32_t seed, int card, bool zeros) {
  std::mt19937 rng(seed);
  bp::FactorGraph g = test::random_grid(rng, 5, 4, card, 0.8);
  std::uniform_int_distribution<int> pick(0, g.num_variables() - 1);
  std::uniform_real_distribution<double> val(-1.0, 1.0);
  for (int k = 0; k < 6; ++k) {
    int a = pick(rng), b = pick(rng), c = pick(rng);
    if (a == b || b == c || a == c) continue;
    std::vector<double> t(static_cast<std::size_t>(card * card * card));
    for (auto& x : t) x = val(rng);
    if (zeros) t[static_cast<std::size_t>(k) % t.size()] = -std::numeric_limits<double>::infinity();
    g.add_log_factor({a, b, c}, t);
  }
  return g;
}

void expect_same(const bp::Result& got, const bp::Result& want, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(got.iterations, want.iterations);
  EXPECT_EQ(got.converged, want.converged);
  EXPECT_EQ(got.max_change, want.max_change);
  EXPECT_EQ(got.var_beliefs, want.var_beliefs);  // exact: the same bits
  EXPECT_EQ(got.factor_beliefs, want.factor_beliefs);
  if (std::isnan(want.log_z)) {
    EXPECT_TRUE(std::isnan(got.log_z));
  } else {
    EXPECT_EQ(got.log_z, want.log_z);
  }
  EXPECT_EQ(got.map, want.map);
  if (!std::isnan(want.map_log_score)) {
    EXPECT_EQ(got.map_log_score, want.map_log_score);
  }
}

TEST(DistBp, FloodingEqualsOneProcess) {
  struct Case {
    int card;
    bool zeros;
    bp::Method method;
    bp::Precision precision;
    double damping;
  };
  const Case cases[] = {
      {2, false, bp::Method::sum_product, bp::Precision::f64, 0.0},  // binary pairwise blocks
      {2, true, bp::Method::max_product, bp::Precision::f64, 0.0},
      {3, false, bp::Method::sum_product, bp::Precision::f64, 0.3},  // probability form, damped
      {3, true, bp::Method::sum_product, bp::Precision::f32, 0.0},
      {2, false, bp::Method::max_product, bp::Precision::f32, 0.5},
  };
  int k = 0;
  for (const Case& c : cases) {
    const bp::FactorGraph g = mixed_graph(100 + static_cast<std::uint32_t>(k++), c.card, c.zeros);
    bp::Options o;
    o.method = c.method;
    o.precision = c.precision;
    o.damping = c.damping;
    o.tol = 1e-7;
    o.max_iter = 60;
    o.device = Device::cpu();
    std::vector<int> ev(static_cast<std::size_t>(g.num_variables()), -1);
    ev[3] = 1;
    bp::Instance in;
    in.evidence = ev;
    const bp::Result want = bp::run(g, o, ev);
    ASSERT_GT(want.iterations, 2);
    for (auto m : methods()) {
      const auto owner = dist::partition_factors(g, W().size(), m);
      if (W().size() > 1) {  // messages do cross between ranks
        EXPECT_GT(dist::bp_cut(g, owner, W().size()).cut_edges, 0);
      }
      const bp::Result got = dist::run_partitioned(W(), g, owner, o, in);
      expect_same(got, want, "case " + std::to_string(k) + " method " + std::to_string(int(m)));
    }
  }
}

TEST(DistBp, EveryRankOwningNothingButOneIsFine) {
  // All factors on the last rank: the others hold nothing and still take part.
  std::mt19937 rng(7);
  const bp::FactorGraph g = test::random_grid(rng, 3, 3, 2, 0.5);
  bp::Options o;
  o.device = Device::cpu();
  const std::vector<int> owner(g.factors.size(), W().size() - 1);
  expect_same(dist::run_partitioned(W(), g, owner, o), bp::run(g, o), "one owner");
}

TEST(DistBp, CutCountsWhatTravels) {
  std::mt19937 rng(9);
  const bp::FactorGraph g = test::random_grid(rng, 4, 4, 2, 0.5);
  // Two parts by rows of factors: contiguous ids. Every cut edge carries 2 values one way.
  const auto owner = dist::partition_factors(g, 2, dist::PartitionMethod::contiguous);
  const dist::BpCut c = dist::bp_cut(g, owner, 2);
  EXPECT_GT(c.cut_edges, 0);
  EXPECT_EQ(c.sent_values, 2 * c.cut_edges);
  EXPECT_GT(c.max_ghosts, 0);
  const dist::BpCut none = dist::bp_cut(g, std::vector<int>(g.factors.size(), 0), 1);
  EXPECT_EQ(none.cut_edges, 0);
  EXPECT_EQ(none.max_ghosts, 0);
}

TEST(DistBp, BadInputFailsOnEveryRank) {
  std::mt19937 rng(3);
  const bp::FactorGraph g = test::random_grid(rng, 3, 3, 2, 0.5);
  bp::Options o;
  o.device = Device::cpu();
  std::vector<int> owner(g.factors.size(), 0);
  owner.back() = W().size();  // out of range
  EXPECT_THROW(dist::run_partitioned(W(), g, owner, o), dist::AgreedError);
  owner.pop_back();  // too short
  EXPECT_THROW(dist::run_partitioned(W(), g, owner, o), dist::AgreedError);
  o.schedule = bp::Schedule::sequential;
  EXPECT_THROW(dist::run_partitioned(W(), g, std::vector<int>(g.factors.size(), 0), o),
               dist::AgreedError);
}

}  // namespace
}  // namespace mpe
