// mpe::Engine: batched results equal direct calls under many threads; batching, cancellation,
// back-pressure, failure isolation (poisoned requests, simulated out-of-memory), draining.
// These tests also run under ThreadSanitizer in CI (tools/test.sh).
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <mpe/engine.hpp>

#include "support/aif_models.hpp"
#include "support/bp_ref.hpp"
#include "support/errors.hpp"

namespace mpe {
namespace {

using namespace std::chrono_literals;

struct Workload {
  std::vector<std::shared_ptr<const aif::Model>> models;
  std::vector<aif::PlanRequest> requests;
  std::vector<std::size_t> model_of;  // request i uses models[model_of[i]]
};

// Two model shapes, a goal-sharing copy (same T, batched together), and two option sets.
Workload make_workload(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Workload w;
  const test::AifSizes a{5, 2, 3, 2, 2}, b{7, 3, 2, 1, 3};
  const auto ma = std::make_shared<const aif::Model>(test::random_aif_model(a, rng, false));
  const auto mb = std::make_shared<const aif::Model>(test::random_aif_model(b, rng, true));
  const auto goal = Tensor::from_vector(test::random_dist(rng, 1, a.S, 1), {a.S});
  const auto ma2 = std::make_shared<const aif::Model>(ma->with_goal(goal));
  w.models = {ma, mb, ma2};
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t m = i % 3;
    const test::AifSizes& z = m == 1 ? b : a;
    aif::PlanRequest r = test::random_aif_request(z, rng, 2 + static_cast<int>(i % 2));
    r.iterations = 3;
    r.method = i % 4 == 0 ? aif::Method::rm : aif::Method::aif;
    r.return_channels = false;
    w.requests.push_back(r);
    w.model_of.push_back(m);
  }
  return w;
}

EngineOptions cpu_options() {
  EngineOptions o;
  o.device = "cpu";
  o.cpu_workers = 2;
  o.max_batch = 16;
  o.max_delay = 500us;
  return o;
}

TEST(Engine, ManyThreadsGetTheirOwnDirectResults) {
  const Workload w = make_workload(480, 1);
  std::vector<std::vector<float>> want;
  for (std::size_t i = 0; i < w.requests.size(); ++i) {
    want.push_back(
        aif::plan(*w.models[w.model_of[i]], {w.requests[i]}, Device::cpu())[0].action_dist);
  }
  Engine engine(cpu_options());
  constexpr int kThreads = 16;
  std::vector<std::vector<float>> got(w.requests.size());
  std::vector<std::thread> clients;
  for (int c = 0; c < kThreads; ++c) {
    clients.emplace_back([&, c] {
      std::vector<std::pair<std::size_t, std::future<aif::Plan>>> mine;
      for (std::size_t i = static_cast<std::size_t>(c); i < w.requests.size(); i += kThreads) {
        mine.emplace_back(i, engine.submit(w.models[w.model_of[i]], w.requests[i]).result);
      }
      for (auto& [i, f] : mine) got[i] = f.get().action_dist;
    });
  }
  for (auto& t : clients) t.join();
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "request " << i;
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.submitted, w.requests.size());
  EXPECT_EQ(s.completed, w.requests.size());
  EXPECT_EQ(s.failed + s.cancelled + s.rejected, 0u);
  EXPECT_LT(s.batches, w.requests.size());  // requests did share batches
  EXPECT_LE(s.max_batch_seen, 16u);
  EXPECT_GT(s.mean_batch, 1.0);
}

TEST(Engine, APartialBatchWaitsForCompanyThenRuns) {
  const Workload w = make_workload(3, 2);
  EngineOptions o = cpu_options();
  o.max_batch = 100;
  o.max_delay = 200ms;
  Engine engine(o);
  // Same group (model 0 and its with_goal copy share T; options equal): one batch of 2.
  auto r0 = w.requests[0];
  auto r2 = w.requests[0];
  r2.q0 = w.requests[2].q0;
  auto f0 = engine.submit(w.models[0], r0).result;
  auto f2 = engine.submit(w.models[2], r2).result;
  EXPECT_EQ(f0.wait_for(50ms), std::future_status::timeout);  // still waiting for company
  f0.get();
  f2.get();
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.batches, 1u);
  EXPECT_EQ(s.max_batch_seen, 2u);
  EXPECT_GE(s.queue_p50_us, 150000.0);
}

TEST(Engine, BadRequestsFailAloneAtSubmit) {
  const Workload w = make_workload(4, 3);
  Engine engine(cpu_options());
  aif::PlanRequest bad = w.requests[0];
  bad.q0[0] += 0.5f;  // no longer sums to 1
  auto good = engine.submit(w.models[0], w.requests[0]);
  auto wrong = engine.submit(w.models[0], bad);
  test::expect_error([&] { wrong.result.get(); }, ErrorCode::invalid_argument, "q0 sums to");
  EXPECT_EQ(good.result.get().action_dist.size(), 3u);
  test::expect_error([&] { engine.submit(nullptr, w.requests[0]); }, ErrorCode::invalid_argument,
                     "model is null");
  EXPECT_EQ(engine.stats().failed, 1u);
}

TEST(Engine, CancelQueuedRequestsAndShutDownWithoutDraining) {
  const Workload w = make_workload(6, 4);
  EngineOptions o = cpu_options();
  o.max_batch = 1000;
  o.max_delay = 10s;  // nothing runs until shutdown
  Engine engine(o);
  std::vector<Ticket<aif::Plan>> t;
  for (int i = 0; i < 4; ++i) t.push_back(engine.submit(w.models[0], w.requests[0]));
  EXPECT_TRUE(engine.cancel(t[1].id));
  EXPECT_FALSE(engine.cancel(t[1].id));  // already gone
  EXPECT_FALSE(engine.cancel(987654));   // never queued
  test::expect_error([&] { t[1].result.get(); }, ErrorCode::cancelled, "cancelled");
  engine.shutdown(false);
  for (int i : {0, 2, 3}) {
    test::expect_error([&] { t[static_cast<std::size_t>(i)].result.get(); }, ErrorCode::cancelled,
                       "shut down");
  }
  test::expect_error([&] { engine.submit(w.models[0], w.requests[0]); }, ErrorCode::busy,
                     "shutting down");
  EXPECT_EQ(engine.stats().cancelled, 4u);
}

TEST(Engine, DestructionDrainsTheQueue) {
  const Workload w = make_workload(5, 5);
  std::vector<std::future<aif::Plan>> f;
  {
    EngineOptions o = cpu_options();
    o.max_delay = 10s;
    o.max_batch = 1000;
    Engine engine(o);
    for (std::size_t i = 0; i < 5; ++i) {
      f.push_back(engine.submit(w.models[w.model_of[i]], w.requests[i]).result);
    }
  }  // the destructor runs what is queued
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(f[i].get().action_dist,
              aif::plan(*w.models[w.model_of[i]], {w.requests[i]}, Device::cpu())[0].action_dist);
  }
}

TEST(Engine, BackPressureRejectsOrBlocksThenGivesUp) {
  const Workload w = make_workload(1, 6);
  EngineOptions o = cpu_options();
  o.max_batch = 1000;
  o.max_delay = 10s;
  o.queue_capacity = 2;
  o.when_full = WhenFull::reject;
  {
    Engine engine(o);
    engine.submit(w.models[0], w.requests[0]);
    engine.submit(w.models[0], w.requests[0]);
    test::expect_error([&] { engine.submit(w.models[0], w.requests[0]); }, ErrorCode::busy,
                       "queue is full");
    EXPECT_EQ(engine.stats().rejected, 1u);
    engine.shutdown(false);
  }
  o.when_full = WhenFull::block;
  o.block_timeout = 50ms;
  Engine engine(o);
  engine.submit(w.models[0], w.requests[0]);
  engine.submit(w.models[0], w.requests[0]);
  const auto start = std::chrono::steady_clock::now();
  test::expect_error([&] { engine.submit(w.models[0], w.requests[0]); }, ErrorCode::busy,
                     "stayed full");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);
  engine.shutdown(false);
}

TEST(Engine, ABlockedSubmitterGetsInWhenRoomAppears) {
  const Workload w = make_workload(1, 9);
  EngineOptions o = cpu_options();
  o.max_batch = 1000;
  o.max_delay = 10s;
  o.queue_capacity = 1;
  o.block_timeout = 10s;
  Engine engine(o);
  const auto first = engine.submit(w.models[0], w.requests[0]);
  std::atomic<bool> in{false};
  std::thread blocked([&] {
    engine.submit(w.models[0], w.requests[0]);
    in = true;
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(in.load());
  EXPECT_TRUE(engine.cancel(first.id));  // makes room
  blocked.join();
  EXPECT_TRUE(in.load());
  engine.shutdown(false);
}

TEST(Engine, APoisonedRequestFailsAloneItsBatchMatesSucceed) {
  const Workload w = make_workload(32, 7);
  std::atomic<std::uint64_t> poisoned{0};
  EngineOptions o = cpu_options();
  o.max_batch = 32;
  o.max_delay = 50ms;
  o.on_batch = [&poisoned](const BatchInfo& b) {
    for (auto id : b.requests) {
      if (id == poisoned.load()) throw Error(ErrorCode::internal, "poisoned request");
    }
  };
  Engine engine(o);
  std::vector<Ticket<aif::Plan>> t;
  for (std::size_t i = 0; i < 32; ++i) {
    t.push_back(engine.submit(w.models[0], w.requests[0]));
    if (i == 0) poisoned = t.back().id + 5;  // the sixth request
  }
  int failures = 0;
  for (auto& x : t) {
    try {
      EXPECT_EQ(x.result.get().action_dist.size(), 3u);
    } catch (const Error& e) {
      ++failures;
      EXPECT_EQ(x.id, poisoned.load());
      EXPECT_NE(std::string(e.what()).find("poisoned"), std::string::npos);
    }
  }
  EXPECT_EQ(failures, 1);
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.completed, 31u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_GT(s.retries, 0u);
}

TEST(Engine, ASimulatedOutOfMemorySplitsBatchesUntilTheyFit) {
  const Workload w = make_workload(24, 8);
  EngineOptions o = cpu_options();
  o.max_batch = 24;
  o.max_delay = 50ms;
  o.on_batch = [](const BatchInfo& b) {
    if (b.requests.size() > 4) throw Error(ErrorCode::out_of_memory, "simulated: batch too big");
  };
  Engine engine(o);
  std::vector<std::future<aif::Plan>> f;
  for (std::size_t i = 0; i < 24; ++i)
    f.push_back(engine.submit(w.models[0], w.requests[0]).result);
  const auto want = aif::plan(*w.models[0], {w.requests[0]}, Device::cpu())[0].action_dist;
  for (auto& x : f) EXPECT_EQ(x.get().action_dist, want);
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.completed, 24u);
  EXPECT_LE(s.max_batch_seen, 24u);
  EXPECT_GT(s.retries, 0u);
}

TEST(Engine, TheMemoryBudgetSplitsBatchesAndRefusesWhatCannotFit) {
  const Workload w = make_workload(12, 13);
  const aif::PlanRequest& r = w.requests[0];  // model 0 (or its goal copy): one group
  const std::size_t need = aif::working_bytes(*w.models[0], r);
  ASSERT_GT(need, 0u);
  std::mutex mu;
  std::vector<std::size_t> sizes;
  EngineOptions o = cpu_options();
  o.max_batch = 1000;
  o.max_delay = 10s;                      // one batch, at shutdown
  o.memory_budget = 3 * need + need / 2;  // three requests fit
  o.on_batch = [&](const BatchInfo& b) {
    std::lock_guard<std::mutex> lock(mu);
    sizes.push_back(b.requests.size());
  };
  std::vector<std::future<aif::Plan>> f;
  {
    Engine engine(o);
    for (int i = 0; i < 8; ++i) f.push_back(engine.submit(w.models[0], r).result);
  }
  const auto direct = aif::plan(*w.models[0], {r}, Device::cpu())[0].action_dist;
  for (auto& x : f) EXPECT_EQ(x.get().action_dist, direct);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 2}));

  o.memory_budget = need - 1;  // nothing fits: each request fails alone, the engine goes on
  Engine engine(o);
  auto t = engine.submit(w.models[0], r);
  engine.shutdown(true);
  test::expect_error([&] { t.result.get(); }, ErrorCode::out_of_memory, "memory_budget");
  EXPECT_EQ(engine.stats().failed, 1u);
  EXPECT_EQ(engine.stats().completed, 0u);
}

// A random store: 60 nodes of three types (two universal), ~3 out-edges each, dimension 16.
std::shared_ptr<const relevance::Store> random_store(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f), w(0.2f, 1.f);
  const char* types[] = {"capability", "constraint", "guideline"};
  auto store = std::make_shared<relevance::Store>(relevance::Store::in_memory(16));
  std::vector<relevance::Node> nodes;
  std::vector<float> emb;
  for (int i = 0; i < 60; ++i) {
    relevance::Node n;
    n.id = "n" + std::to_string(i);
    n.type = types[i % 3];
    n.title = n.id;
    n.universal = i == 7 || i == 31;
    nodes.push_back(n);
    for (int c = 0; c < 16; ++c) emb.push_back(u(rng));
  }
  store->add_nodes(nodes, emb);
  std::vector<relevance::Edge> edges;
  std::set<std::pair<int, int>> seen;
  for (int k = 0; k < 180; ++k) {
    const int a = static_cast<int>(rng() % 60), b = static_cast<int>(rng() % 60);
    if (a == b || !seen.insert({a, b}).second) continue;
    edges.push_back({"n" + std::to_string(a), "n" + std::to_string(b), "ENABLES", w(rng)});
  }
  store->add_edges(edges);
  return store;
}

relevance::Query random_query(std::mt19937_64& rng, int i) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  relevance::Query q;
  if (i % 5 == 4) {
    q.seeds = {{"n" + std::to_string(i % 60), 0.9f}};
  } else {
    for (int c = 0; c < 16; ++c) q.embedding.push_back(u(rng));
  }
  q.params.seed_threshold = 0.1f;
  q.params.top_k = 3 + i % 4;
  q.params.max_iterations = 2 + i % 5;
  q.params.min_activation = 0.05f;
  return q;
}

// Relevance queries and planning requests from 16 threads through one engine: every result
// equals the direct call's; queries against one store share batches; a bad query fails alone.
TEST(Engine, MixedRelevanceAndPlanningRequestsFromManyThreads) {
  const auto store = random_store(21);
  const Workload w = make_workload(64, 22);
  constexpr int kThreads = 16, kPerThread = 12;
  std::vector<std::vector<relevance::Query>> queries(kThreads);
  std::mt19937_64 rng(23);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i)
      queries[t].push_back(random_query(rng, t * kPerThread + i));
  std::vector<std::vector<relevance::QueryResult>> got(kThreads);
  std::vector<std::vector<aif::Plan>> plans(kThreads);
  {
    Engine engine(cpu_options());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::vector<std::future<relevance::QueryResult>> f;
        std::vector<std::future<aif::Plan>> p;
        for (int i = 0; i < kPerThread; ++i) {
          f.push_back(engine.submit(store, queries[t][i]).result);
          if (i < 4) {
            const std::size_t r = static_cast<std::size_t>(t * 4 + i);
            p.push_back(engine.submit(w.models[w.model_of[r]], w.requests[r]).result);
          }
        }
        for (auto& x : f) got[t].push_back(x.get());
        for (auto& x : p) plans[t].push_back(x.get());
      });
    }
    for (auto& th : threads) th.join();
    const EngineStats st = engine.stats();
    EXPECT_EQ(st.completed, static_cast<std::uint64_t>(kThreads * (kPerThread + 4)));
    EXPECT_GT(st.mean_batch, 1.0);  // something was batched

    relevance::Query bad = queries[0][0];
    bad.embedding.resize(5);
    auto t = engine.submit(store, bad);
    test::expect_error([&] { t.result.get(); }, ErrorCode::invalid_argument, "dimension");
  }
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      SCOPED_TRACE(testing::Message() << "thread " << t << " query " << i);
      const relevance::QueryResult want = store->query(queries[t][i]);
      const relevance::QueryResult& r = got[t][static_cast<std::size_t>(i)];
      EXPECT_EQ(r.iterations, want.iterations);
      ASSERT_EQ(r.results.size(), want.results.size());
      for (std::size_t k = 0; k < r.results.size(); ++k) {
        EXPECT_EQ(r.results[k].id, want.results[k].id);
        EXPECT_NEAR(r.results[k].activation, want.results[k].activation, 1e-6);
      }
    }
    for (int i = 0; i < 4; ++i) {
      const std::size_t r = static_cast<std::size_t>(t * 4 + i);
      EXPECT_EQ(plans[t][static_cast<std::size_t>(i)].action_dist,
                aif::plan(*w.models[w.model_of[r]], {w.requests[r]}, Device::cpu())[0].action_dist);
    }
  }
}

// Belief propagation through the engine: instances (evidence, potentials) of one graph from
// many threads get the direct runs' results; flooding and sequential runs batch separately; a
// bad instance fails alone at submit.
TEST(Engine, BeliefPropagationRunsFromManyThreadsMatchDirectRuns) {
  std::mt19937 rng(41);
  const auto g = std::make_shared<const bp::FactorGraph>(test::random_grid(rng, 3, 3, 2, 0.6));
  constexpr int kThreads = 8, kPerThread = 6;
  std::vector<bp::Instance> instances(kThreads * kPerThread);
  for (std::size_t k = 0; k < instances.size(); ++k) {
    instances[k].evidence.assign(9, -1);
    instances[k].evidence[k % 9] = static_cast<int>(k % 2);
  }
  bp::Options flooding;
  flooding.tol = 1e-12;
  flooding.max_iter = 300;
  bp::Options sequential = flooding;
  sequential.schedule = bp::Schedule::sequential;
  std::vector<bp::Result> got(instances.size());
  {
    Engine engine(cpu_options());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::vector<std::future<bp::Result>> f;
        for (int i = 0; i < kPerThread; ++i) {
          const std::size_t k = static_cast<std::size_t>(t * kPerThread + i);
          f.push_back(engine.submit(g, instances[k], k % 3 == 0 ? sequential : flooding).result);
        }
        for (int i = 0; i < kPerThread; ++i)
          got[static_cast<std::size_t>(t * kPerThread + i)] = f[static_cast<std::size_t>(i)].get();
      });
    }
    for (auto& th : threads) th.join();
    bp::Instance bad;
    bad.evidence.assign(9, -1);
    bad.evidence[2] = 5;  // variable 2 has 2 states
    auto t = engine.submit(g, bad);
    test::expect_error([&] { t.result.get(); }, ErrorCode::invalid_argument, "out of range");
    EXPECT_EQ(engine.stats().completed, instances.size());
  }
  for (std::size_t k = 0; k < instances.size(); ++k) {
    bp::Options o = k % 3 == 0 ? sequential : flooding;
    o.device = Device::cpu();
    const bp::Result want = bp::run(*g, o, instances[k].evidence);
    ASSERT_EQ(got[k].var_beliefs.size(), want.var_beliefs.size());
    EXPECT_EQ(got[k].iterations, want.iterations) << k;
    for (std::size_t v = 0; v < want.var_beliefs.size(); ++v)
      for (std::size_t x = 0; x < want.var_beliefs[v].size(); ++x)
        EXPECT_NEAR(got[k].var_beliefs[v][x], want.var_beliefs[v][x], 1e-14) << k;
    EXPECT_NEAR(got[k].log_z, want.log_z, 1e-12) << k;
  }
}

TEST(Engine, OptionsAreChecked) {
  EngineOptions o;
  o.device = "cpu";
  o.max_batch = 0;
  test::expect_error([&] { Engine e(o); }, ErrorCode::invalid_argument, "max_batch");
  o = EngineOptions{};
  o.device = "tpu";
  test::expect_error([&] { Engine e(o); }, ErrorCode::invalid_argument, "tpu");
  o = EngineOptions{};
  o.device = "cpu";
  Engine e(o);
  EXPECT_EQ(e.devices(), std::vector<Device>{Device::cpu()});
  EXPECT_NE(e.stats().str().find("0 submitted"), std::string::npos);
}

}  // namespace
}  // namespace mpe
