// AIF-MP sparse dynamics: the same numbers as the dense layout (to 1e-5), every method, both
// observation paths and goal forms; the golden sparse-T fixture through the sparse layout; and
// the automatic choice.
#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>

#include "support/aif_models.hpp"

namespace mpe::aif {
namespace {

Model deterministic_model(std::int64_t S, std::int64_t K, std::int64_t A, std::mt19937_64& rng,
                          bool theta_goal) {
  return test::deterministic_aif_model(S, K, A, rng, theta_goal);
}

TEST(AifSparse, SameNumbersAsDenseEveryMethodPathAndGoal) {
  std::mt19937_64 rng(21);
  for (Method method : {Method::bp, Method::vbp, Method::rm, Method::aif})
    for (ObservationPath path : {ObservationPath::dense, ObservationPath::precomputed})
      for (bool theta_goal : {false, true}) {
        SCOPED_TRACE(testing::Message() << method_name(method) << " theta_goal=" << theta_goal);
        const Model m = deterministic_model(12, 3, 4, rng, theta_goal);
        PlanRequest r = test::random_aif_request({12, 3, 4, 2, 3}, rng, 4);
        r.q0.assign(12, 0.0f);
        r.q0[3] = 1.0f;  // one-hot, as agents start
        r.method = method;
        r.observation_path = path;
        r.iterations = 8;
        r.damping = 0.6f;
        r.dynamics = DynamicsLayout::dense;
        const Plan dense = plan(m, {r}, Device::cpu())[0];
        r.dynamics = DynamicsLayout::sparse;
        const Plan sparse = plan(m, {r}, Device::cpu())[0];
        EXPECT_FALSE(dense.sparse_dynamics);
        EXPECT_TRUE(sparse.sparse_dynamics);
        for (std::size_t u = 0; u < dense.action_dist.size(); ++u) {
          ASSERT_NEAR(sparse.action_dist[u], dense.action_dist[u], 1e-5);
        }
        const auto qd = dense.q_u.to_vector<float>(), qs = sparse.q_u.to_vector<float>();
        for (std::size_t k = 0; k < qd.size(); ++k) ASSERT_NEAR(qs[k], qd[k], 1e-5);
        // r_x agrees on the support; off it the sparse layout reports LOG_ZERO. There the dense
        // layout keeps the uniform start (bp, vbp: r_x is never updated) or a value that counts
        // as zero probability (rm, aif); either way the dynamics kernel gives those entries no
        // weight, because T is zero there.
        const auto rd = dense.log_r_x.to_vector<float>(), rs = sparse.log_r_x.to_vector<float>();
        for (std::size_t k = 0; k < rd.size(); ++k) {
          if (rs[k] > -5e11f) {
            ASSERT_NEAR(rs[k], rd[k], 1e-5f * (1.0f + std::fabs(rd[k]))) << "entry " << k;
          } else if (method >= Method::rm) {
            ASSERT_LT(std::exp(double(rd[k])), 1e-30) << "entry " << k;
          }
        }
      }
}

TEST(AifSparse, GoldenSparseFixtureThroughTheSparseLayout) {
  PlanRequest r = test::fixture_request(ObservationPath::precomputed);
  r.dynamics = DynamicsLayout::sparse;
  const Plan p = plan(test::fixture_model(false, true), {r}, Device::cpu())[0];
  EXPECT_TRUE(p.sparse_dynamics);
  EXPECT_NEAR(p.action_dist[0], 0.6509952f, 1e-5);
  EXPECT_NEAR(p.action_dist[1], 0.34900486f, 1e-5);
  const auto rx = p.log_r_x.to_vector<float>();
  EXPECT_NEAR(rx[0], -0.5683889f, 1e-5);
  EXPECT_NEAR(rx[15], -0.44133407f, 1e-5);
}

TEST(AifSparse, AutomaticLayoutFollowsDensity) {
  std::mt19937_64 rng(4);
  PlanRequest r = test::random_aif_request({20, 2, 3, 2, 3}, rng, 3);
  const Model sparse_model = deterministic_model(20, 2, 3, rng, false);  // ≤ 2/20 dense
  EXPECT_TRUE(plan(sparse_model, {r}, Device::cpu())[0].sparse_dynamics);
  const Model dense_model = test::random_aif_model({20, 2, 3, 2, 3}, rng, false);
  EXPECT_FALSE(plan(dense_model, {r}, Device::cpu())[0].sparse_dynamics);
}

}  // namespace
}  // namespace mpe::aif
