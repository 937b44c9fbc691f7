// Relevance learning: the spec's update arithmetic against a float64 evaluation, rewards per
// node and per turn, persistence, and crash safety — a child process killed (SIGKILL) in the
// middle of a batch of updates leaves the store before or after the batch, never between.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>
#include <atomic>
#include <algorithm>

#include <gtest/gtest.h>
#include <mpe/relevance.hpp>

#include "support/errors.hpp"

namespace mpe::test {
namespace {
using namespace mpe::relevance;

std::string tmp_db(const std::string& name) {
  const std::string p = ::testing::TempDir() + "rel_learn_" + name;
  for (const char* s : {"", "-wal", "-shm"}) std::remove((p + s).c_str());
  return p;
}

Node node(const std::string& id) {
  Node n;
  n.id = id;
  n.type = "constraint";
  n.title = id;
  return n;
}

std::vector<float> embeddings(std::size_t n, int dim) {
  std::vector<float> e(n * std::size_t(dim), 0.1f);
  for (std::size_t i = 0; i < n; ++i) e[i * std::size_t(dim) + i % std::size_t(dim)] = 1.0f;
  return e;
}

double expected_weight(double w, double sr, double r, double eta) {
  return std::min(1.0, std::max(0.0, w + eta * (r - sr)));
}

TEST(RelevanceLearn, UpdateArithmetic) {
  Store s = Store::in_memory(8);
  s.add_nodes({node("img"), node("cost"), node("short"), node("other"), node("x")},
              embeddings(5, 8));
  s.add_edges({{"img", "cost", "HAS_CONSTRAINT", 0.8f, 0.9f, 0.5f},
               {"img", "short", "HAS_CONSTRAINT", 0.98f, 0.9f, 0.1f},
               {"short", "img", "APPLIES_TO", 0.02f, 0.9f, 0.9f},
               {"other", "x", "ENABLES", 0.4f, 0.5f, 0.3f}});
  // The seed's learning example: 0.8 -> 0.85 for a good outcome at success rate 0.5.
  const LearnReport rep = s.learn(std::vector<std::string>{"img"}, Outcome::turn(1.0f));
  EXPECT_EQ(rep.nodes, 1);
  EXPECT_EQ(rep.edges, 2);
  auto e = s.edges();
  EXPECT_NEAR(e[0].weight, 0.85, 1e-6);
  EXPECT_NEAR(e[0].success_rate, 0.55, 1e-6);
  EXPECT_FLOAT_EQ(e[1].weight, 1.0f);  // clamped
  EXPECT_NEAR(e[1].success_rate, 0.19, 1e-6);
  EXPECT_FLOAT_EQ(e[2].weight, 0.02f);  // not an edge of an activated node
  EXPECT_FLOAT_EQ(e[3].weight, 0.4f);
  // Per-node rewards override the turn reward; a bad outcome at a high success rate lowers
  // the weight down to the clamp at 0.
  Outcome o = Outcome::turn(0.6f);
  o.node_rewards["short"] = 0.0f;
  LearnOptions lo;
  lo.learning_rate = 0.25f;
  const auto before = s.edges();
  s.learn(std::vector<std::string>{"img", "short"}, o, lo);
  e = s.edges();
  EXPECT_NEAR(e[0].weight, expected_weight(before[0].weight, before[0].success_rate, 0.6, 0.25), 1e-6);
  EXPECT_NEAR(e[0].success_rate, 0.9 * before[0].success_rate + 0.1 * 0.6, 1e-6);
  EXPECT_NEAR(e[2].weight, expected_weight(0.02, 0.9, 0.0, 0.25), 1e-6);
  EXPECT_EQ(e[2].weight, 0.0f);
  EXPECT_NEAR(e[2].success_rate, 0.81, 1e-6);
  EXPECT_FLOAT_EQ(e[3].weight, 0.4f);
  // Bad outcomes change nothing.
  const auto mid = s.edges();
  expect_error([&] { s.learn(std::vector<std::string>{"img"}, Outcome::turn(1.5f)); },
               ErrorCode::invalid_argument, "turn reward 1.5 is outside [0, 1]");
  Outcome stray;
  stray.node_rewards["x"] = 1.0f;
  expect_error([&] { s.learn(std::vector<std::string>{"img"}, stray); },
               ErrorCode::invalid_argument, "node 'x' has a reward but is not active");
  expect_error([&] { s.learn(std::vector<std::string>{"ghost"}, Outcome::turn(1.0f)); },
               ErrorCode::invalid_argument, "unknown node id 'ghost'");
  e = s.edges();
  for (std::size_t k = 0; k < e.size(); ++k) EXPECT_EQ(e[k].weight, mid[k].weight);
}

TEST(RelevanceLearn, LearnsFromAQueryAndPersists) {
  const std::string db = tmp_db("persist.db");
  {
    Store s = Store::create(db, 8);
    s.add_nodes({node("a"), node("b"), node("c"), node("d")}, embeddings(4, 8));
    s.add_edges({{"a", "b", "T", 0.9f}, {"b", "c", "T", 0.9f}, {"d", "a", "T", 0.5f}});
    Query q;
    q.seeds = {{"a", 1.0f}};
    q.params.max_iterations = 1;  // active: a (decayed) and b
    const QueryResult r = s.query(q);
    ASSERT_EQ(r.active.size(), 2u);
    const LearnReport rep = s.learn(r, Outcome::turn(1.0f));
    EXPECT_EQ(rep.nodes, 2);
    EXPECT_EQ(rep.edges, 2);
    // The loaded graph sees the new weights at once.
    const QueryResult r2 = s.query(q);
    EXPECT_NEAR(r2.active[1].second, 0.5f * 1.0f * 0.95f, 1e-6);
  }
  Store s = Store::open(db);
  const auto e = s.edges();
  EXPECT_NEAR(e[0].weight, 0.95, 1e-6);
  EXPECT_NEAR(e[1].weight, 0.95, 1e-6);
  EXPECT_FLOAT_EQ(e[2].weight, 0.5f);
}

// A store of `n` nodes with about 8 out-edges each, all success rates 0.5.
void make_big_store(const std::string& db, int n) {
  Store s = Store::create(db, 8);
  std::vector<Node> nodes;
  for (int i = 0; i < n; ++i) nodes.push_back(node("n" + std::to_string(i)));
  s.add_nodes(nodes, embeddings(std::size_t(n), 8));
  std::vector<Edge> edges;
  for (int i = 0; i < n; ++i)
    for (int k = 1; k <= 8; ++k)
      edges.push_back({"n" + std::to_string(i), "n" + std::to_string((i + k * 7) % n), "T",
                       0.5f, 0.5f, 0.5f});
  s.add_edges(edges);
}

std::vector<std::string> all_ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("n" + std::to_string(i));
  return ids;
}

// Which batch count the store's edges agree on, -1 when they disagree (a torn update): the
// states after k batches of rewards 1, 0, 1, 0, ... with η = 0.1 from w = sr = 0.5 are
// evaluated in float64.
int committed_batches(const std::string& db, int max_batches) {
  const Store s = Store::open(db);
  const auto edges = s.edges();
  double w = 0.5, sr = 0.5;
  for (int k = 0; k <= max_batches; ++k) {
    bool all = true;
    for (const Edge& e : edges)
      all = all && std::fabs(e.weight - w) < 1e-5 && std::fabs(e.success_rate - sr) < 1e-5;
    if (all) return k;
    const double r = k % 2 == 0 ? 1.0 : 0.0;
    w = expected_weight(w, sr, r, 0.1);
    sr = 0.9 * sr + 0.1 * r;
  }
  return -1;
}

TEST(RelevanceLearn, KilledInTheMiddleOfABatchLeavesBeforeOrAfter) {
  const int n = 300;  // 2400 edges per batch
  const std::string db = tmp_db("kill.db");
  make_big_store(db, n);
  ASSERT_EQ(committed_batches(db, 0), 0);
  // 1) A child commits 3 batches, then is killed exactly in the middle of the 4th.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    try {
      Store s = Store::open(db);
      const auto ids = all_ids(n);
      for (int b = 0;; ++b) {
        LearnOptions lo;
        lo.on_edge = [&](std::int64_t done, std::int64_t total) {
          if (b == 3 && done == total / 2) {
            const char c = 'm';
            (void)!::write(fds[1], &c, 1);
            for (;;) ::pause();  // killed here, half the batch written inside the transaction
          }
        };
        s.learn(ids, Outcome::turn(b % 2 == 0 ? 1.0f : 0.0f), lo);
      }
    } catch (...) {
    }
    ::_exit(3);
  }
  ::close(fds[1]);
  char c = 0;
  ASSERT_EQ(::read(fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'm');
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(committed_batches(db, 10), 3) << "the half-written 4th batch must not show";
  // The store stays usable: the next batch commits on top.
  {
    Store s = Store::open(db);
    s.learn(all_ids(n), Outcome::turn(0.0f));  // batch index 3: reward 0
  }
  EXPECT_EQ(committed_batches(db, 10), 4);

  // 2) Kills at random moments while a child commits batch after batch.
  std::mt19937 rng(5);
  for (int round = 0; round < 4; ++round) {
    const std::string db2 = tmp_db("kill_random.db");
    make_big_store(db2, n);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        Store s = Store::open(db2);
        const auto ids = all_ids(n);
        for (int b = 0;; ++b) s.learn(ids, Outcome::turn(b % 2 == 0 ? 1.0f : 0.0f));
      } catch (...) {
      }
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 200));
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    const int k = committed_batches(db2, 5000);
    EXPECT_GE(k, 0) << "round " << round << ": edges from different batches (a torn update)";
    RecordProperty("committed_batches_round_" + std::to_string(round), k);
  }
}

// Readers query from several threads while a writer learns: every answer is the answer of one
// of the states the writer passes through (never a half-applied update).
TEST(RelevanceLearn, ConcurrentReadersSeeWholeStates) {
  auto build = [] {
    Store s = Store::in_memory(8);
    std::vector<Node> nodes;
    for (int i = 0; i < 40; ++i) nodes.push_back(node("n" + std::to_string(i)));
    s.add_nodes(nodes, embeddings(40, 8));
    std::vector<Edge> edges;
    for (int i = 0; i < 40; ++i)
      for (int k = 1; k <= 3; ++k)
        edges.push_back({"n" + std::to_string(i), "n" + std::to_string((i + k) % 40), "T", 0.6f});
    s.add_edges(edges);
    return s;
  };
  Query q;
  q.seeds = {{"n0", 1.0f}, {"n7", 0.8f}};
  q.params.tolerance = 0.0f;
  q.params.types = {};
  const int steps = 12;
  auto ids = all_ids(40);
  // The states, replayed on a second store.
  std::vector<std::vector<std::pair<std::int64_t, float>>> states;
  {
    Store ref = build();
    states.push_back(ref.query(q).active);
    for (int k = 0; k < steps; ++k) {
      ref.learn(ids, Outcome::turn(k % 2 ? 0.0f : 1.0f));
      states.push_back(ref.query(q).active);
    }
  }
  Store s = build();
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, seen{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const auto rs = s.query_batch({q, q});
        for (const auto& r : rs) {
          if (std::find(states.begin(), states.end(), r.active) == states.end()) ++bad;
          ++seen;
        }
      }
    });
  }
  for (int k = 0; k < steps; ++k) {
    s.learn(ids, Outcome::turn(k % 2 ? 0.0f : 1.0f));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(seen.load(), 0);
  EXPECT_EQ(s.query(q).active, states.back());
}

}  // namespace
}  // namespace mpe::test
