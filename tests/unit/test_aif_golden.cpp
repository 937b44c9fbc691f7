// AIF-MP on the CPU against the golden fixtures of aif-mp.md §7.
#include <cmath>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>

#include "support/aif_models.hpp"

namespace mpe::aif {
namespace {

using test::fixture_model;
using test::fixture_request;

struct Golden {
  float a0, a1, rx0000, rx1111, rc00000, rc20111;
};

void expect_golden(const Plan& p, const Golden& g, bool check_rc) {
  constexpr float kTol = 1e-5f;
  ASSERT_EQ(p.action_dist.size(), 2u);
  EXPECT_NEAR(p.action_dist[0], g.a0, kTol);
  EXPECT_NEAR(p.action_dist[1], g.a1, kTol);
  const auto rx = p.log_r_x.to_vector<float>();  // [t,o,n,u], 2x2x2x2
  EXPECT_NEAR(rx[0], g.rx0000, kTol);
  EXPECT_NEAR(rx[15], g.rx1111, kTol);
  if (check_rc) {
    const auto rc = p.log_r_c.to_vector<float>();  // [t,f,y,x,θ], 3x1x2x2x2
    EXPECT_NEAR(rc[0], g.rc00000, kTol);
    EXPECT_NEAR(rc[2 * 8 + 0 * 8 + 1 * 4 + 1 * 2 + 1], g.rc20111, kTol);
  }
  EXPECT_EQ(p.iterations_run, 2);
}

TEST(AifGolden, DenseTerminalGoal) {
  const auto plans =
      plan(fixture_model(false), {fixture_request(ObservationPath::dense)}, Device::cpu());
  expect_golden(plans[0],
                {0.64464676f, 0.35535327f, -0.49224865f, -0.38458693f, -0.06756467f, -1.87442505f},
                true);
}

TEST(AifGolden, DenseThetaGoal) {
  const auto plans =
      plan(fixture_model(true), {fixture_request(ObservationPath::dense)}, Device::cpu());
  expect_golden(plans[0],
                {0.6366111f, 0.3633889f, -0.5406195f, -0.6678637f, -0.06756467f, -1.87442505f},
                true);
}

TEST(AifGolden, PrecomputedTerminalGoal) {
  const auto plans =
      plan(fixture_model(false), {fixture_request(ObservationPath::precomputed)}, Device::cpu());
  expect_golden(plans[0], {0.65320015f, 0.34679985f, -0.47603077f, -0.39674857f, 0, 0}, false);
  EXPECT_FALSE(plans[0].log_r_c.defined());
}

TEST(AifGolden, PrecomputedThetaGoal) {
  const auto plans =
      plan(fixture_model(true), {fixture_request(ObservationPath::precomputed)}, Device::cpu());
  expect_golden(plans[0], {0.64426464f, 0.35573533f, -0.52189064f, -0.6863634f, 0, 0}, false);
}

TEST(AifGolden, SparseTransitionPrecomputedTerminal) {
  const auto plans = plan(fixture_model(false, true),
                          {fixture_request(ObservationPath::precomputed)}, Device::cpu());
  expect_golden(plans[0], {0.6509952f, 0.34900486f, -0.5683889f, -0.44133407f, 0, 0}, false);
}

TEST(AifGolden, ZeroPriorActionIsNeverChosen) {
  const auto plans = plan(fixture_model(false, true, {1.0f, 0.0f}),
                          {fixture_request(ObservationPath::precomputed)}, Device::cpu());
  EXPECT_NEAR(plans[0].action_dist[0], 1.0f, 1e-6);
  EXPECT_LT(plans[0].action_dist[1], 1e-6f);
}

TEST(AifGolden, BatchOfIdenticalRequestsGivesIdenticalPlans) {
  const auto plans =
      plan(fixture_model(false),
           std::vector<PlanRequest>(5, fixture_request(ObservationPath::dense)), Device::cpu());
  ASSERT_EQ(plans.size(), 5u);
  for (const auto& p : plans) EXPECT_EQ(p.action_dist, plans[0].action_dist);
}

}  // namespace
}  // namespace mpe::aif
