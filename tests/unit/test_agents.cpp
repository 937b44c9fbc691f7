// Agents (aif-mp.md §6): Frozen Lake's dynamics, observations and layouts against hand-computed
// values, filtering against a direct enumeration, lock-step runs against episodes run alone.
#include <cmath>
#include <set>

#include <gtest/gtest.h>
#include <mpe/agents.hpp>

#include "support/errors.hpp"

namespace mpe::agents {
namespace {

float T_at(const Environment& env, std::int64_t n, std::int64_t o, std::int64_t th,
           std::int64_t u) {
  const std::int64_t S = env.states(), K = env.thetas(), A = env.actions();
  return env.T().data<float>()[((n * S + o) * K + th) * A + u];
}

float B_at(const Environment& env, std::int64_t f, std::int64_t y, std::int64_t x,
           std::int64_t th) {
  const std::int64_t O = env.B().dim(1), S = env.states(), K = env.thetas();
  return env.B().data<float>()[((f * O + y) * S + x) * K + th];
}

TEST(FrozenLake, LayoutsFollowTheSpec) {
  const auto a = frozen_lake_layouts(7), b = frozen_lake_layouts(7), c = frozen_lake_layouts(8);
  EXPECT_EQ(a, b);  // seeded
  ASSERT_EQ(a.size(), 15u);
  std::set<std::vector<int>> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), 15u);
  for (const auto& l : a) {
    ASSERT_EQ(l.size(), 2u);
    for (int cell : l) {
      EXPECT_GE(cell, 1);
      EXPECT_LE(cell, 14);
    }
    EXPECT_NE(l[0], l[1]);
  }
  // Greedy max-min: the second layout shares no hole with the first.
  EXPECT_EQ(std::count(a[0].begin(), a[0].end(), a[1][0]) + std::count(a[0].begin(), a[0].end(), a[1][1]), 0);
  // Layouts that block every path are never chosen: {11, 14} walls off cell 15, {1, 4} cell 0.
  for (const auto& l : a) {
    EXPECT_FALSE((l == std::vector<int>{11, 14}));
    EXPECT_FALSE((l == std::vector<int>{1, 4}));
  }
  EXPECT_NE(a, c);  // another seed, other layouts
}

TEST(FrozenLake, TransitionsByHand) {
  const auto env = make_environment("frozen_lake", 7);
  const auto layouts = frozen_lake_layouts(7);
  ASSERT_EQ(env->states(), 32);
  ASSERT_EQ(env->thetas(), 15);
  ASSERT_EQ(env->actions(), 5);
  // Find a layout without holes at cells 1 and 4 (the start's neighbours).
  std::int64_t th = -1;
  for (std::size_t k = 0; k < layouts.size() && th < 0; ++k) {
    const auto& l = layouts[k];
    if (std::count(l.begin(), l.end(), 1) == 0 && std::count(l.begin(), l.end(), 4) == 0) {
      th = static_cast<std::int64_t>(k);
    }
  }
  ASSERT_GE(th, 0);
  // R from cell 0: 0.9 to cell 1; slips L and U bump the wall (stay), D goes to cell 4.
  EXPECT_NEAR(T_at(*env, 1, 0, th, 2), 0.9f, 1e-6);
  EXPECT_NEAR(T_at(*env, 0, 0, th, 2), 0.2f / 3, 1e-6);
  EXPECT_NEAR(T_at(*env, 4, 0, th, 2), 0.1f / 3, 1e-6);
  // SCAN sets the flag and keeps the cell; moves keep the flag.
  EXPECT_EQ(T_at(*env, 16, 0, th, 4), 1.0f);
  EXPECT_NEAR(T_at(*env, 17, 16, th, 2), 0.9f, 1e-6);
  // Holes and the goal self-loop for every action, SCAN included.
  const int hole = layouts[static_cast<std::size_t>(th)][0];
  for (std::int64_t u = 0; u < 5; ++u) {
    EXPECT_EQ(T_at(*env, hole, hole, th, u), 1.0f);
    EXPECT_EQ(T_at(*env, 15, 15, th, u), 1.0f);
    EXPECT_EQ(T_at(*env, 31, 31, th, u), 1.0f);
  }
  // The simulator: stepping into the goal ends the episode with reward 1.
  Rng rng(3);
  int reached = 0;
  for (int i = 0; i < 200; ++i) {
    const StepResult r = env->step(14, 2, th, rng);  // R from cell 14
    if (r.next_state == 15) {
      ++reached;
      EXPECT_TRUE(r.terminated);
      EXPECT_EQ(r.reward, 1.0);
    }
  }
  EXPECT_GT(reached, 160);  // 0.9 of 200, give or take
  EXPECT_LT(reached, 196);
}

TEST(FrozenLake, ObservationProbabilitiesByHand) {
  const auto env = make_environment("frozen_lake", 7);
  const auto layouts = frozen_lake_layouts(7);
  const int hole = layouts[0][0];
  int safe = 1;
  while (std::count(layouts[0].begin(), layouts[0].end(), safe)) ++safe;
  // State channels: 0.999 on the agent's state, 0.001 elsewhere.
  EXPECT_NEAR(B_at(*env, 5, 1, 5, 0), 0.999f, 1e-7);
  EXPECT_NEAR(B_at(*env, 6, 1, 5, 0), 0.001f, 1e-7);
  // Hole channel, unscanned, agent at cell 0: noise = 0.4 + 0.1·d/6 with d the Manhattan distance.
  const int d_hole = hole / 4 + hole % 4, d_safe = safe / 4 + safe % 4;
  EXPECT_NEAR(B_at(*env, 32 + hole, 1, 0, 0), 1.0 - (0.4 + 0.1 * d_hole / 6.0), 1e-6);
  EXPECT_NEAR(B_at(*env, 32 + safe, 1, 0, 0), 0.4 + 0.1 * d_safe / 6.0, 1e-6);
  // Scanned (state 16 = cell 0, flag 1): 0.999 on a hole, 0.001 on a safe cell.
  EXPECT_NEAR(B_at(*env, 32 + hole, 1, 16, 0), 0.999f, 1e-7);
  EXPECT_NEAR(B_at(*env, 32 + safe, 1, 16, 0), 0.001f, 1e-7);
  for (std::int64_t f = 0; f < 48; ++f) {
    EXPECT_NEAR(B_at(*env, f, 0, 7, 3) + B_at(*env, f, 1, 7, 3), 1.0f, 1e-6);
  }
  // The planner sees the 16 hole channels.
  EXPECT_EQ(env->planning_channels().size(), 16u);
  EXPECT_EQ(env->planning_channels().front(), 32);
  EXPECT_EQ(env->planning_model({}).modalities(), 16);
}

TEST(AgentFilter, MatchesADirectEnumeration) {
  const auto env = make_environment("frozen_lake", 5);
  Rng rng(9);
  const std::int64_t S = env->states(), K = env->thetas(), A = env->actions();
  std::vector<float> qx(static_cast<std::size_t>(S)), qt(static_cast<std::size_t>(K));
  double zx = 0, zt = 0;
  for (auto& v : qx) zx += (v = static_cast<float>(rng.uniform()));
  for (auto& v : qt) zt += (v = static_cast<float>(rng.uniform()));
  for (auto& v : qx) v = static_cast<float>(v / zx);
  for (auto& v : qt) v = static_cast<float>(v / zt);
  const auto y = env->observe(3, 2, rng);
  for (std::int64_t action : {std::int64_t{-1}, std::int64_t{2}}) {
    std::vector<float> fx = qx, ft = qt;
    filter(*env, action, y, fx, ft);
    // Direct: joint(x', θ) ∝ Π_f (B + 1e-12) · (pred(x') + 1e-12) · (q(θ) + 1e-12), summed in
    // another order, in long double.
    std::vector<long double> pred(static_cast<std::size_t>(S), 0);
    for (std::int64_t o = 0; o < S; ++o)
      for (std::int64_t th = 0; th < K; ++th)
        for (std::int64_t u = 0; u < A; ++u) {
          const long double a = action < 0 ? 1.0L / A : (u == action ? 1.0L : 0.0L);
          for (std::int64_t n = 0; n < S; ++n) {
            pred[static_cast<std::size_t>(n)] += static_cast<long double>(T_at(*env, n, o, th, u)) *
                                                  qx[static_cast<std::size_t>(o)] *
                                                  qt[static_cast<std::size_t>(th)] * a;
          }
        }
    long double z = 1e-12L;
    for (auto p : pred) z += p;
    std::vector<long double> jx(static_cast<std::size_t>(S), 0), jt(static_cast<std::size_t>(K), 0);
    long double total = 0;
    for (std::int64_t th = 0; th < K; ++th)
      for (std::int64_t x = 0; x < S; ++x) {
        long double j = (pred[static_cast<std::size_t>(x)] / z + 1e-12L) *
                        (static_cast<long double>(qt[static_cast<std::size_t>(th)]) + 1e-12L);
        for (std::int64_t f = 0; f < 48; ++f) {
          j *= static_cast<long double>(B_at(*env, f, y[static_cast<std::size_t>(f)], x, th)) + 1e-12L;
        }
        jx[static_cast<std::size_t>(x)] += j;
        jt[static_cast<std::size_t>(th)] += j;
        total += j;
      }
    for (std::int64_t x = 0; x < S; ++x) {
      EXPECT_NEAR(fx[static_cast<std::size_t>(x)], static_cast<double>(jx[static_cast<std::size_t>(x)] / total), 1e-5);
    }
    for (std::int64_t th = 0; th < K; ++th) {
      EXPECT_NEAR(ft[static_cast<std::size_t>(th)], static_cast<double>(jt[static_cast<std::size_t>(th)] / total), 1e-5);
    }
  }
  std::vector<float> bad(3);
  std::vector<float> t = qt;
  test::expect_error([&] { filter(*env, 0, y, bad, t); }, ErrorCode::invalid_argument, "q_x [3]");
}

TEST(AgentEval, LockStepEqualsEpisodesRunAlone) {
  const auto env = make_environment("frozen_lake", 3);
  EvalOptions o;
  o.episodes = 3;
  o.seed = 42;
  o.iterations = 12;
  o.horizon = 6;
  const EvalResult together = evaluate(*env, o);
  for (int e = 0; e < 3; ++e) {
    EvalOptions one = o;
    one.episodes = 1;
    one.first_episode = e;
    const EvalResult alone = evaluate(*env, one);
    EXPECT_EQ(alone.actions[0], together.actions[static_cast<std::size_t>(e)]) << "episode " << e;
    EXPECT_EQ(alone.successes[0], together.successes[static_cast<std::size_t>(e)]);
  }
}

TEST(AgentEval, FixedSeedSmokeRun) {
  const auto env = make_environment("frozen_lake", 1);
  EvalOptions o;
  o.episodes = 4;
  o.seed = 7;
  o.iterations = 10;
  o.horizon = 5;
  int steps_seen = 0;
  o.progress = [&steps_seen](int step, int) { steps_seen = step; };
  const EvalResult a = evaluate(*env, o), b = evaluate(*env, o);
  EXPECT_EQ(a.actions, b.actions);  // deterministic for a seed
  EXPECT_EQ(a.episodes, 4);
  for (const auto& acts : a.actions) {
    EXPECT_GE(acts.size(), 1u);
    EXPECT_LE(acts.size(), 15u);
    for (auto u : acts) EXPECT_LT(u, 5);
  }
  EXPECT_GE(a.success_rate, 0.0);
  EXPECT_LE(a.success_rate, 1.0);
  EXPECT_NEAR(a.success_ci95, 1.96 * std::sqrt(a.success_rate * (1 - a.success_rate) / 4), 1e-12);
  EXPECT_GT(steps_seen, 0);
  test::expect_error([] { make_environment("chess", 1); }, ErrorCode::invalid_argument,
                     "unknown environment 'chess'");
  EvalOptions bad = o;
  bad.episodes = 0;
  test::expect_error([&] { evaluate(*env, bad); }, ErrorCode::invalid_argument, "episodes");
}

}  // namespace
}  // namespace mpe::agents
