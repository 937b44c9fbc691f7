// AIF-MP planning: CUDA (one block per problem) against the CPU twin, every method, both
// observation paths and both goal forms; the golden fixtures on the GPU.
#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>

#include "support/aif_models.hpp"
#include "support/gpu.hpp"

namespace mpe::aif {
namespace {

using test::random_dist;

Model random_model(std::int64_t S, std::int64_t K, std::int64_t A, std::int64_t F, std::int64_t O,
                   std::mt19937_64& rng, bool theta_goal) {
  return test::random_aif_model({S, K, A, F, O}, rng, theta_goal, 0.3f);
}

void expect_same_plan(const Plan& gpu, const Plan& cpu) {
  ASSERT_EQ(gpu.action_dist.size(), cpu.action_dist.size());
  for (std::size_t u = 0; u < cpu.action_dist.size(); ++u) {
    ASSERT_NEAR(gpu.action_dist[u], cpu.action_dist[u], 1e-4) << "action " << u;
  }
  EXPECT_EQ(gpu.iterations_run, cpu.iterations_run);
  const auto g = gpu.log_r_x.to_vector<float>();
  const auto c = cpu.log_r_x.to_vector<float>();
  ASSERT_EQ(g.size(), c.size());
  for (std::size_t k = 0; k < c.size(); ++k) {
    ASSERT_FALSE(std::isnan(g[k]));
    const bool live_c = c[k] > -5e11f, live_g = g[k] > -5e11f;
    ASSERT_EQ(live_g, live_c) << "r_x entry " << k;
    if (live_c) {
      ASSERT_NEAR(g[k], c[k], 1e-3f * (1.0f + std::fabs(c[k]))) << "r_x entry " << k;
    }
  }
  ASSERT_EQ(gpu.log_r_c.defined(), cpu.log_r_c.defined());
}

TEST(GpuParityAif, EveryMethodPathAndGoal) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::mt19937_64 rng(3);
  for (Method method : {Method::bp, Method::vbp, Method::rm, Method::aif})
    for (ObservationPath path : {ObservationPath::dense, ObservationPath::precomputed})
      for (bool theta_goal : {false, true}) {
        SCOPED_TRACE(testing::Message()
                     << method_name(method) << " dense=" << (path == ObservationPath::dense)
                     << " theta_goal=" << theta_goal);
        const std::int64_t S = 7, K = 3, A = 4, F = 2, O = 3;
        const Model m = random_model(S, K, A, F, O, rng, theta_goal);
        std::vector<PlanRequest> reqs;
        for (int i = 0; i < 5; ++i) {
          PlanRequest r;
          r.q0 = random_dist(rng, 1, S, 1);
          r.q_theta = random_dist(rng, 1, K, 1);
          r.horizon = 1 + i;  // horizon 1 included
          r.iterations = 4;
          r.damping = 0.7f;
          r.method = method;
          r.observation_path = path;
          reqs.push_back(r);
        }
        // Different horizons split the batch into groups; each group is one launch.
        const auto cpu = plan(m, reqs, Device::cpu());
        const auto gpu = plan(m, reqs, Device::cuda(0));
        for (std::size_t i = 0; i < reqs.size(); ++i) expect_same_plan(gpu[i], cpu[i]);
      }
}

TEST(GpuParityAif, BatchOfModelsAndLargerStates) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::mt19937_64 rng(9);
  const std::int64_t S = 48, K = 4, A = 5, F = 3, O = 2;
  std::vector<Model> models;
  std::vector<PlanRequest> reqs;
  for (int i = 0; i < 33; ++i) {
    models.push_back(random_model(S, K, A, F, O, rng, false));
    PlanRequest r;
    r.q0 = std::vector<float>(static_cast<std::size_t>(S), 0.0f);
    r.q0[static_cast<std::size_t>(i % S)] = 1.0f;  // one-hot start, as agents plan
    r.q_theta = random_dist(rng, 1, K, 1);
    r.horizon = 5;
    r.iterations = 6;
    r.damping = 0.9f;
    reqs.push_back(r);
  }
  const auto cpu = plan(models, reqs, Device::cpu());
  const auto gpu = plan(models, reqs, Device::cuda(0));
  for (std::size_t i = 0; i < reqs.size(); ++i) expect_same_plan(gpu[i], cpu[i]);
}

TEST(GpuParityAif, SparseDynamics) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::mt19937_64 rng(17);
  for (Method method : {Method::vbp, Method::aif})
    for (bool theta_goal : {false, true}) {
      const Model m = test::deterministic_aif_model(40, 3, 5, rng, theta_goal);
      std::vector<PlanRequest> reqs;
      for (int i = 0; i < 9; ++i) {
        PlanRequest r = test::random_aif_request({40, 3, 5, 2, 3}, rng, 4);
        r.method = method;
        r.iterations = 5;
        r.damping = 0.8f;
        r.dynamics = DynamicsLayout::sparse;
        reqs.push_back(r);
      }
      const auto cpu = plan(m, reqs, Device::cpu());
      const auto gpu = plan(m, reqs, Device::cuda(0));
      for (std::size_t i = 0; i < reqs.size(); ++i) {
        EXPECT_TRUE(gpu[i].sparse_dynamics);
        expect_same_plan(gpu[i], cpu[i]);
      }
    }
}

TEST(GpuParityAif, GoldenFixtureOnTheGpu) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Model m = test::fixture_model(false);
  const PlanRequest r = test::fixture_request(ObservationPath::dense);
  const Plan p = plan(m, {r}, Device::cuda(0))[0];
  EXPECT_NEAR(p.action_dist[0], 0.64464676f, 1e-5);
  const auto rx = p.log_r_x.to_vector<float>();
  EXPECT_NEAR(rx[0], -0.49224865f, 1e-5);
  EXPECT_NEAR(rx[15], -0.38458693f, 1e-5);
  const auto rc = p.log_r_c.to_vector<float>();
  EXPECT_NEAR(rc[0], -0.06756467f, 1e-5);
  EXPECT_NEAR(rc[23], -1.87442505f, 1e-5);
}

}  // namespace
}  // namespace mpe::aif
