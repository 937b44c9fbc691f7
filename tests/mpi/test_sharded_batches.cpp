// Sharded batches against the single-process call: every rank computes the one-process result
// itself and compares it field by field (exact: the shards change no arithmetic).
#include <gtest/gtest.h>

#include <mpe/dist_batches.hpp>

namespace mpe {
namespace {

dist::Communicator& W() { return *dist::world(); }

TEST(DistBatches, AgentEpisodesEqualOneProcess) {
  for (const char* name : {"frozen_lake", "rocksample"}) {
    const auto env = agents::make_environment(name, 5);
    agents::EvalOptions o;
    o.episodes = 7;  // not a multiple of 2 or 4: uneven shards
    o.seed = 5;
    o.iterations = 8;
    o.horizon = 4;
    o.tolerance = 1e-2f;
    const agents::EvalResult want = agents::evaluate(*env, o);
    const agents::EvalResult got = dist::evaluate(W(), *env, o);
    EXPECT_EQ(got.episodes, want.episodes) << name;
    EXPECT_EQ(got.success_rate, want.success_rate) << name;
    EXPECT_EQ(got.success_ci95, want.success_ci95) << name;
    EXPECT_EQ(got.mean_reward, want.mean_reward) << name;
    EXPECT_EQ(got.reward_ci95, want.reward_ci95) << name;
    EXPECT_EQ(got.mean_steps, want.mean_steps) << name;
    EXPECT_EQ(got.retrieval, want.retrieval) << name;
    EXPECT_EQ(got.plans, want.plans) << name;
    EXPECT_EQ(got.mean_iterations, want.mean_iterations) << name;
    EXPECT_EQ(got.max_iterations, want.max_iterations) << name;
    EXPECT_EQ(got.actions, want.actions) << name;
    EXPECT_EQ(got.successes, want.successes) << name;
    EXPECT_EQ(got.rewards, want.rewards) << name;
  }
}

TEST(DistBatches, FewerEpisodesThanRanks) {
  const auto env = agents::make_environment("frozen_lake", 2);
  agents::EvalOptions o;
  o.episodes = 1;
  o.iterations = 4;
  o.horizon = 3;
  const agents::EvalResult want = agents::evaluate(*env, o);
  const agents::EvalResult got = dist::evaluate(W(), *env, o);
  EXPECT_EQ(got.actions, want.actions);
  EXPECT_EQ(got.mean_reward, want.mean_reward);
}

aif::Model small_model() {
  const auto env = agents::make_environment("frozen_lake", 3);
  return env->planning_model(std::vector<float>(static_cast<std::size_t>(env->thetas()),
                                                1.0f / static_cast<float>(env->thetas())));
}

std::vector<aif::PlanRequest> requests(const aif::Model& m, int n) {
  std::vector<aif::PlanRequest> rs;
  for (int i = 0; i < n; ++i) {
    aif::PlanRequest r;
    r.q0.assign(static_cast<std::size_t>(m.states()), 0.0f);
    r.q0[static_cast<std::size_t>(i % m.states())] = 1.0f;
    r.q_theta.assign(static_cast<std::size_t>(m.thetas()), 1.0f / static_cast<float>(m.thetas()));
    r.horizon = 2 + i % 3;
    r.iterations = 5;
    r.damping = 0.9f;
    rs.push_back(r);
  }
  return rs;
}

TEST(DistBatches, PlanRequestsEqualOneProcessOnRoot) {
  const aif::Model m = small_model();
  const auto rs = requests(m, 9);
  const auto want = aif::plan(m, rs, Device::cpu());
  const int root = W().size() - 1;
  const auto got = dist::plan(W(), m, rs, Device::cpu(), root);
  if (W().rank() != root) {
    EXPECT_TRUE(got.empty());
    return;
  }
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].action_dist, want[i].action_dist) << i;
    EXPECT_EQ(got[i].q_u.to_vector<float>(), want[i].q_u.to_vector<float>()) << i;
    EXPECT_EQ(got[i].log_r_x.to_vector<float>(), want[i].log_r_x.to_vector<float>()) << i;
    EXPECT_EQ(got[i].iterations_run, want[i].iterations_run) << i;
    EXPECT_EQ(got[i].max_change, want[i].max_change) << i;
  }
}

TEST(DistBatches, BadRequestOnOneRankFailsAllWithItsIndex) {
  const aif::Model m = small_model();
  auto rs = requests(m, 9);
  rs[8].horizon = 0;  // the last rank's block
  try {
    dist::plan(W(), m, rs, Device::cpu());
    FAIL() << "no error";
  } catch (const dist::AgreedError& e) {
    EXPECT_EQ(e.failing_rank(), W().size() - 1);
    EXPECT_NE(std::string(e.what()).find("request 8"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpe
