// The CPU planner against a literal float64 implementation of aif-mp.md §3–4
// (tests/support/aif_ref.cpp) on random models: every method, both observation paths, both
// goal forms, both damping kinds, dense and sparse dynamics layouts, structural zeros, and sizes
// that leave vector remainders (S, K not multiples of 8; two and three outcomes). The planner
// takes shortcuts the reference does not (one observation slice for all H+1, row sums with
// shifts known in advance, two-outcome channels on their log-odds, sums over T's support): this
// is where they must agree.
#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>
#include <mpe/error.hpp>

#include "support/aif_models.hpp"
#include "support/aif_ref.hpp"

namespace mpe::aif {
namespace {

struct Case {
  test::AifSizes z;
  int H, I;
  float zeros;  // fraction of structural zeros in T
};

// Largest |p - q| over probabilities given as logs.
double max_prob_diff(const std::vector<float>& got, const std::vector<double>& want) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size() && i < want.size(); ++i) {
    EXPECT_FALSE(std::isnan(got[i])) << i;
    worst = std::max(worst, std::fabs(std::exp(double(got[i])) - std::exp(want[i])));
  }
  return worst;
}

TEST(AifReference, PlannerEqualsFloat64SpecOnRandomModels) {
  const Case cases[] = {
      {{5, 3, 3, 2, 2}, 4, 6, 0.0f},   {{13, 5, 4, 3, 2}, 5, 8, 0.3f},
      {{20, 15, 5, 4, 2}, 6, 10, 0.0f}, {{9, 4, 3, 2, 3}, 3, 7, 0.5f},
      {{33, 2, 2, 1, 2}, 3, 5, 0.8f},
  };
  std::mt19937_64 rng(2026);
  int compared = 0;
  for (const Case& c : cases)
    for (Method method : {Method::bp, Method::vbp, Method::rm, Method::aif})
      for (ObservationPath path : {ObservationPath::dense, ObservationPath::precomputed})
        for (bool theta_goal : {false, true})
          for (DampingKind kind : {DampingKind::geometric, DampingKind::arithmetic})
            for (DynamicsLayout layout : {DynamicsLayout::dense, DynamicsLayout::sparse}) {
              if (kind == DampingKind::arithmetic && (theta_goal || path != ObservationPath::dense))
                continue;  // arithmetic damping: one combination per method is enough
              const Model m = test::random_aif_model(c.z, rng, theta_goal, c.zeros);
              PlanRequest r = test::random_aif_request(c.z, rng, c.H);
              r.method = method;
              r.observation_path = path;
              r.damping_kind = kind;
              r.dynamics = layout;
              r.iterations = c.I;
              r.damping = method == Method::rm ? 0.25f : 0.9f;
              if (layout == DynamicsLayout::sparse && kind == DampingKind::arithmetic &&
                  method >= Method::rm) {
                EXPECT_THROW((void)plan(m, {r}, Device::cpu()), Error);  // see DynamicsLayout
                continue;
              }
              const Plan p = plan(m, {r}, Device::cpu())[0];
              const test::AifRefPlan want = test::reference_plan(m, r);
              SCOPED_TRACE(::testing::Message()
                           << "S=" << c.z.S << " K=" << c.z.K << " A=" << c.z.A << " F=" << c.z.F
                           << " O=" << c.z.O << " method " << method_name(method) << " path "
                           << int(path) << " theta_goal " << theta_goal << " kind " << int(kind)
                           << " layout " << int(layout));
              for (std::size_t u = 0; u < want.action_dist.size(); ++u) {
                EXPECT_NEAR(p.action_dist[u], want.action_dist[u], 2e-4) << "action " << u;
              }
              const auto qu = p.q_u.to_vector<float>();
              for (std::size_t i = 0; i < want.q_u.size(); ++i) EXPECT_NEAR(qu[i], want.q_u[i], 2e-4) << i;
              std::vector<double> rx_want = want.log_r_x;
              if (p.sparse_dynamics) {  // reported as zero off T's support (aif.hpp: Plan)
                const auto T = m.T().to_vector<float>();
                const std::int64_t S = c.z.S, K = c.z.K, A = c.z.A;
                for (std::size_t i = 0; i < rx_want.size(); ++i) {
                  const std::int64_t u = i % A, n = (i / A) % S, o = (i / (A * S)) % S;
                  bool zero = true;
                  for (std::int64_t k = 0; k < K; ++k)
                    zero &= T[static_cast<std::size_t>(((n * S + o) * K + k) * A + u)] == 0.0f;
                  if (zero) rx_want[i] = -1e12;
                }
              }
              EXPECT_LT(max_prob_diff(p.log_r_x.to_vector<float>(), rx_want), 2e-4);
              if (path == ObservationPath::dense) {
                EXPECT_LT(max_prob_diff(p.log_r_c.to_vector<float>(), want.log_r_c), 2e-4);
              }
              ++compared;
            }
  EXPECT_GT(compared, 100);
}

// Deterministic dynamics, the same for every θ (RockSample's kind): one successor per
// (x_old, u), which the sparse path sums without exps.
TEST(AifReference, DeterministicDynamicsEqualFloat64Spec) {
  std::mt19937_64 rng(7);
  const std::int64_t S = 11, K = 3, A = 4, F = 2, O = 3;
  std::uniform_int_distribution<std::int64_t> pick(0, S - 1);
  std::vector<float> T(static_cast<std::size_t>(S * S * K * A), 0.0f);
  for (std::int64_t o = 0; o < S; ++o)
    for (std::int64_t u = 0; u < A; ++u) {
      const std::int64_t n = pick(rng);
      for (std::int64_t k = 0; k < K; ++k) T[static_cast<std::size_t>(((n * S + o) * K + k) * A + u)] = 1.0f;
    }
  const test::AifSizes z{S, K, A, F, O};
  for (Method method : {Method::bp, Method::rm, Method::aif})
    for (DynamicsLayout layout : {DynamicsLayout::dense, DynamicsLayout::sparse}) {
      const Model m = Model::with_terminal_goal(
          Tensor::from_vector(T, {S, S, K, A}),
          Tensor::from_vector(test::random_dist(rng, F, O, S * K), {F, O, S, K}),
          Tensor::from_vector(test::random_dist(rng, 1, A, 1), {A}),
          Tensor::from_vector(test::random_dist(rng, 1, S, 1), {S}));
      PlanRequest r = test::random_aif_request(z, rng, 5);
      r.method = method;
      r.dynamics = layout;
      r.iterations = 9;
      r.damping = method == Method::rm ? 0.25f : 0.9f;
      const Plan p = plan(m, {r}, Device::cpu())[0];
      const test::AifRefPlan want = test::reference_plan(m, r);
      SCOPED_TRACE(::testing::Message() << method_name(method) << " layout " << int(layout));
      for (std::size_t u = 0; u < want.action_dist.size(); ++u) {
        EXPECT_NEAR(p.action_dist[u], want.action_dist[u], 2e-4) << "action " << u;
      }
      const auto rx = p.log_r_x.to_vector<float>();
      for (std::size_t i = 0; i < rx.size(); ++i) {
        const std::int64_t u = i % A, n = (i / A) % S, o = (i / (A * S)) % S;
        const bool support = T[static_cast<std::size_t>(((n * S + o) * K) * A + u)] > 0;
        if (!support && p.sparse_dynamics) continue;  // reported as zero off the support
        EXPECT_NEAR(std::exp(double(rx[i])), std::exp(want.log_r_x[i]), 2e-4) << i;
      }
    }
}

}  // namespace
}  // namespace mpe::aif
