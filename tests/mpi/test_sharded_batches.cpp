// Sharded batches (agents, plans, relevance queries) against the single-process call: every
// rank computes the one-process result itself and compares it field by field (exact: the
// shards change no arithmetic).
#include <gtest/gtest.h>

#include <random>
#include <set>

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

namespace mpe {
namespace {

// A small random store (random embeddings, node parameters and weighted typed edges).
relevance::Store random_store(int n, int m, int dim, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f), g(-1.0f, 1.0f);
  relevance::Store s = relevance::Store::in_memory(dim);
  const char* ntypes[] = {"constraint", "capability", "guideline", "concept"};
  const char* etypes[] = {"ENABLES", "REQUIRES", "PART_OF"};
  std::vector<relevance::Node> nodes;
  std::vector<float> emb;
  for (int i = 0; i < n; ++i) {
    relevance::Node nd;
    nd.id = "n" + std::to_string(i);
    nd.type = ntypes[i % 4];
    nd.title = "node " + std::to_string(i);
    nd.universal = i % 13 == 5;
    nd.residual = u(rng);
    nd.decay = 0.5f + 0.5f * u(rng);
    nodes.push_back(nd);
    for (int c = 0; c < dim; ++c) emb.push_back(g(rng));
  }
  s.add_nodes(nodes, emb);
  std::vector<relevance::Edge> edges;
  std::set<std::pair<int, int>> seen;
  while (static_cast<int>(edges.size()) < m) {
    const int a = static_cast<int>(rng() % unsigned(n)), b = static_cast<int>(rng() % unsigned(n));
    if (a == b || !seen.insert({a, b}).second) continue;
    edges.push_back({"n" + std::to_string(a), "n" + std::to_string(b), etypes[(a + b) % 3], u(rng),
                     u(rng), 0.5f});
  }
  s.add_edges(edges);
  return s;
}

TEST(DistBatches, RelevanceQueriesEqualOneProcessOnRoot) {
  const int dim = 8;
  const relevance::Store store = random_store(60, 200, dim, 7);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> g(-1.0f, 1.0f);
  std::vector<relevance::Query> qs(7);
  for (std::size_t i = 0; i < qs.size(); ++i) {
    for (int c = 0; c < dim; ++c) qs[i].embedding.push_back(g(rng));
    qs[i].params.seed_threshold = 0.0f;
    qs[i].params.top_k = 3;
    qs[i].params.min_activation = 0.05f;
    qs[i].params.types.clear();
  }
  qs[6].seeds = {{"n4", 1.0f}, {"n9", 0.5f}};  // explicit seeds
  const auto want = store.query_batch(qs, Device::cpu());
  const auto got = dist::query_batch(W(), store, qs, Device::cpu());
  if (W().rank() != 0) {
    EXPECT_TRUE(got.empty());
    return;
  }
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].results.size(), want[i].results.size()) << i;
    for (std::size_t k = 0; k < got[i].results.size(); ++k) {
      EXPECT_EQ(got[i].results[k].id, want[i].results[k].id);
      EXPECT_EQ(got[i].results[k].title, want[i].results[k].title);
      EXPECT_EQ(got[i].results[k].activation, want[i].results[k].activation);
      EXPECT_EQ(got[i].results[k].confidence, want[i].results[k].confidence);
      EXPECT_EQ(got[i].results[k].universal, want[i].results[k].universal);
      EXPECT_EQ(got[i].results[k].seed, want[i].results[k].seed);
    }
    EXPECT_EQ(got[i].active, want[i].active) << i;
    EXPECT_EQ(got[i].seeds.size(), want[i].seeds.size()) << i;
    EXPECT_EQ(got[i].iterations, want[i].iterations) << i;
    EXPECT_EQ(got[i].edges_touched, want[i].edges_touched) << i;
  }
  EXPECT_FALSE(want[0].active.empty());  // the queries reach something
}

TEST(DistBatches, BadRelevanceQueryNamesItsIndex) {
  const relevance::Store store = random_store(20, 40, 8, 9);
  std::vector<relevance::Query> qs(5);
  for (auto& q : qs) q.embedding.assign(8, 0.5f);
  qs[4].embedding.assign(3, 0.5f);  // wrong dimension, on the last rank's block
  try {
    dist::query_batch(W(), store, qs, Device::cpu());
    FAIL() << "no error";
  } catch (const dist::AgreedError& e) {
    EXPECT_NE(std::string(e.what()).find("query 4"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpe
