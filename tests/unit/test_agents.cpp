// Agents (aif-mp.md §6): Frozen Lake's dynamics, observations and layouts against hand-computed
// values, filtering against a direct enumeration, lock-step runs against episodes run alone.
#include <cmath>
#include <algorithm>
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
  // Through the scheduler: the same actions.
  EngineOptions eo;
  eo.device = "cpu";
  eo.max_batch = 2;  // forces several batches per step
  Engine engine(eo);
  EvalOptions via = o;
  via.engine = &engine;
  EXPECT_EQ(evaluate(*env, via).actions, together.actions);
  EXPECT_GT(engine.stats().completed, 3u);
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
  bad = o;
  bad.tolerance = -1.0f;
  test::expect_error([&] { evaluate(*env, bad); }, ErrorCode::invalid_argument, "tolerance");
  // With every iteration run (tolerance 0) the checked twin is the same plan: nothing differs,
  // and every plan was checked and ran all its iterations.
  EvalOptions same = o;
  same.tolerance = 0.0f;
  same.check_tolerance = true;
  const EvalResult c = evaluate(*env, same);
  EXPECT_GT(c.plans, 0);
  EXPECT_EQ(c.actions_checked, c.plans);
  EXPECT_EQ(c.actions_differing, 0);
  EXPECT_EQ(c.max_iterations, same.iterations > 0 ? same.iterations : env->iterations());
  EXPECT_DOUBLE_EQ(c.mean_iterations, double(c.max_iterations));
}

}  // namespace
}  // namespace mpe::agents

namespace mpe::agents {
namespace {

// The next state under a deterministic T (the one entry with probability 1).
std::int64_t det_next(const Environment& env, std::int64_t x, std::int64_t u, std::int64_t th = 0) {
  for (std::int64_t n = 0; n < env.states(); ++n) {
    if (T_at(env, n, x, th, u) == 1.0f) return n;
  }
  return -1;
}

TEST(RockSample, DynamicsObservationsRewardsByHand) {
  const auto env = make_environment("rocksample", 4);
  ASSERT_EQ(env->states(), 640);
  ASSERT_EQ(env->thetas(), 8);
  ASSERT_EQ(env->actions(), 8);
  const std::int64_t start = env->start_state();
  EXPECT_EQ(start, 8);                        // row 2, col 0, mask 0, event 0
  EXPECT_EQ(det_next(*env, start, 2), 9);     // R
  EXPECT_EQ(det_next(*env, start, 0), 8);     // L into the wall
  EXPECT_EQ(det_next(*env, start, 5), 8 + 128 * 2);  // CHECK_1: event 2
  EXPECT_EQ(det_next(*env, 3, 7), 3);                // the exit column absorbs
  // Find the rocks: SAMPLE from (pos, mask 0) leads to event 4.
  std::vector<std::int64_t> rocks;
  for (std::int64_t pos = 0; pos < 16; ++pos) {
    const std::int64_t n = det_next(*env, pos, 7);
    if (n / 128 == 4) rocks.push_back(pos);
  }
  ASSERT_EQ(rocks.size(), 3u);
  for (auto p : rocks) {
    EXPECT_NE(p, 8);
    EXPECT_NE(p % 4, 3);
  }
  // The same for every θ; sampling sets the rock's bit.
  const std::int64_t n0 = det_next(*env, rocks[0], 7, 0);
  EXPECT_EQ(det_next(*env, rocks[0], 7, 5), n0);
  const int bit = static_cast<int>((n0 / 16) % 8);
  EXPECT_EQ(__builtin_popcount(static_cast<unsigned>(bit)), 1);
  // Rock channel of that rock right after CHECK from the start: α = ½ + ½·2^(−d/2).
  const int r = __builtin_ctz(static_cast<unsigned>(bit));
  const std::int64_t checked = det_next(*env, start, 4 + r);
  const std::int64_t d = std::max(std::abs(8 / 4 - rocks[0] / 4), std::abs(8 % 4 - rocks[0] % 4));
  const double alpha = std::clamp(0.5 + 0.5 * std::pow(2.0, -d / 2.0), 0.01, 0.99);
  const std::int64_t good_theta = 1 << r;  // only rock r good
  EXPECT_NEAR(B_at(*env, 16 + r, 1, checked, good_theta), alpha, 1e-6);
  EXPECT_NEAR(B_at(*env, 16 + r, 0, checked, good_theta), 1 - alpha, 1e-6);
  EXPECT_EQ(B_at(*env, 16 + r, 2, start, good_theta), 1.0f);  // no check: "none"
  EXPECT_NEAR(B_at(*env, 16 + r, 1, n0, good_theta), 0.999f, 1e-6);  // just sampled
  EXPECT_NEAR(B_at(*env, 8, 1, start, 0), 0.9f, 1e-6);   // position channel on the cell
  EXPECT_NEAR(B_at(*env, 9, 1, start, 0), 0.01f, 1e-6);
  // Rewards: +2 for a good rock, −3 for a bad one, +1 on reaching the exit column.
  Rng rng(1);
  EXPECT_EQ(env->step(rocks[0], 7, good_theta, rng).reward, 2.0);
  EXPECT_EQ(env->step(rocks[0], 7, 0, rng).reward, -3.0);
  const StepResult out = env->step(2, 2, 0, rng);  // R from col 2 into the exit column
  EXPECT_EQ(out.reward, 1.0);
  EXPECT_TRUE(out.terminated);
  // The goal follows q(θ): a belief sure of a bad rock r makes sampling it worse than not.
  std::vector<float> sure_bad(8, 0.0f);
  sure_bad[0] = 1.0f;
  const aif::Model m = env->planning_model(sure_bad);
  const float* g = m.goal().data<float>();
  EXPECT_LT(g[3 + 16 * bit], g[3]);  // exit with rock r sampled < exit without
  EXPECT_EQ(m.modalities(), 3);
}

TEST(Wumpus, ConfigurationsDynamicsAndObservations) {
  const auto env = make_environment("wumpus", 2);
  ASSERT_EQ(env->states(), 50);
  ASSERT_EQ(env->thetas(), 25);
  // SENSE sets the flag; a move clears it (0.99 intended).
  EXPECT_EQ(T_at(*env, 25, 0, 0, 4), 1.0f);
  // Find θ 0's gold and pits from the simulator's rewards.
  Rng rng(5);
  std::int64_t gold = -1, pit = -1;
  for (std::int64_t cell = 1; cell < 25; ++cell) {
    // step into `cell` from a neighbour with no slip chance mattering: look at the reward.
    const std::int64_t from = cell % 5 > 0 ? cell - 1 : cell - 5;
    if (from < 0) continue;
    for (int tries = 0; tries < 50; ++tries) {
      const StepResult s = env->step(from, cell % 5 > 0 ? 2 : 1, 0, rng);
      if (s.next_state == cell) {
        if (s.reward > 0) gold = cell;
        if (s.reward < 0 && pit < 0) pit = cell;
        break;
      }
    }
  }
  ASSERT_GE(gold, 1);
  ASSERT_GE(pit, 1);
  for (std::int64_t u = 0; u < 5; ++u) EXPECT_EQ(T_at(*env, pit, pit, 0, u), 1.0f);  // self-loop
  EXPECT_LT(T_at(*env, gold, gold, 0, 0), 1.0f);  // the gold does not self-loop
  EXPECT_NEAR(T_at(*env, 1, 25, 0, 2) + T_at(*env, 26, 25, 0, 2), 0.99f, 1e-6);
  EXPECT_EQ(T_at(*env, 26, 25, 0, 2), 0.0f);  // moving clears the flag
  // Glitter: 0.5 unsensed; sensed 0.9 on the gold, 0.01 elsewhere. Position 0.95 / 0.005.
  EXPECT_NEAR(B_at(*env, 2, 1, gold, 0), 0.5f, 1e-7);
  EXPECT_NEAR(B_at(*env, 2, 1, gold + 25, 0), 0.9f, 1e-7);
  EXPECT_NEAR(B_at(*env, 2, 1, 25, 0), 0.01f, 1e-7);
  EXPECT_NEAR(B_at(*env, 3 + 7, 1, 7, 0), 0.95f, 1e-7);
  EXPECT_NEAR(B_at(*env, 3 + 8, 1, 7 + 25, 0), 0.005f, 1e-7);
  EXPECT_EQ(env->planning_channels().size(), 28u);
}

TEST(AgentEval, EveryEnvironmentRunsShort) {
  for (const std::string name : {"rocksample", "wumpus"}) {
    const auto env = make_environment(name, 1);
    EvalOptions o;
    o.episodes = 2;
    o.seed = 3;
    o.iterations = 4;
    o.horizon = 3;
    const EvalResult r = evaluate(*env, o);
    EXPECT_EQ(r.episodes, 2) << name;
    for (const auto& acts : r.actions) {
      EXPECT_GE(acts.size(), 1u);
      EXPECT_LE(acts.size(), static_cast<std::size_t>(env->max_steps()));
    }
    if (name == "rocksample") {
      EXPECT_GE(r.retrieval, -1.0);
      EXPECT_LE(r.retrieval, 1.0);
    }
  }
}

}  // namespace
}  // namespace mpe::agents
