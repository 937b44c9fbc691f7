// The relevance store under faults (issue 16 item 6): several processes learning on one file
// while another queries lose no update; a lock held past the busy timeout is a clear busy
// error; a full store (max_page_count) and a corrupted file give clear errors and leave the
// store as it was.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <mpe/relevance.hpp>

#include "support/errors.hpp"

namespace mpe::relevance {
namespace {

namespace fs = std::filesystem;
using test::expect_error;

class StoreFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("mpe_store_faults_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A store of three nodes, a -> b and a -> c (weight 0.5, success rate 0.5), b -> c.
  std::string make_store(const std::string& name) const {
    const std::string p = path(name);
    Store s = Store::create(p, 4);
    std::vector<Node> nodes(3);
    const char* ids[] = {"a", "b", "c"};
    for (int i = 0; i < 3; ++i) {
      nodes[static_cast<std::size_t>(i)].id = ids[i];
      nodes[static_cast<std::size_t>(i)].type = "concept";
    }
    s.add_nodes(nodes, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0});
    s.add_edges({{"a", "b", "LINK", 0.5f, 0.5f, 0.5f},
                 {"a", "c", "LINK", 0.5f, 0.5f, 0.5f},
                 {"b", "c", "LINK", 0.5f, 0.5f, 0.5f}});
    return p;
  }

  static std::string bytes_of(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  fs::path dir_;
};

// kProcs processes each learn kRounds times on "a" (reward 1) while this one queries. Every
// update applies the same map to (w, success rate), so the final values do not depend on the
// order: the value after kProcs * kRounds applications, computed here in float.
TEST_F(StoreFaults, ConcurrentLearnersInSeveralProcessesLoseNoUpdate) {
  const std::string p = make_store("shared.db");
  constexpr int kProcs = 3, kRounds = 15;
  std::vector<pid_t> children;
  for (int c = 0; c < kProcs; ++c) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        Store s = Store::open(p);
        for (int r = 0; r < kRounds; ++r)
          s.learn(std::vector<std::string>{"a"}, Outcome::turn(1.0f));
      } catch (...) {
        rc = 1;
      }
      _exit(rc);
    }
    children.push_back(pid);
  }
  // A reader meanwhile: opens and queries; every weight it sees is a valid state.
  for (int k = 0; k < 10; ++k) {
    const Store s = Store::open(p);
    for (const Edge& e : s.edges()) {
      EXPECT_GE(e.weight, 0.5f);
      EXPECT_LE(e.weight, 1.0f);
    }
    Query q;
    q.seeds = {{"a", 1.0f}};
    q.params.types.clear();
    EXPECT_FALSE(s.query(q).active.empty());
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a learning process failed";
  }
  float w = 0.5f, sr = 0.5f;
  for (int n = 0; n < kProcs * kRounds; ++n) {
    w = std::min(1.0f, std::max(0.0f, w + 0.1f * (1.0f - sr)));
    sr = 0.9f * sr + 0.1f * 1.0f;
  }
  const Store s = Store::open(p);
  for (const Edge& e : s.edges()) {
    if (e.source == "a") {
      EXPECT_FLOAT_EQ(e.success_rate, sr) << e.target;
      EXPECT_FLOAT_EQ(e.weight, w) << e.target;
    } else {
      EXPECT_EQ(e.success_rate, 0.5f);  // b -> c: b never learned
      EXPECT_EQ(e.weight, 0.5f);
    }
  }
}

// Another connection holds the write lock longer than the busy timeout: learn fails with
// Error(busy) naming the lock, and nothing changes.
TEST_F(StoreFaults, ALockHeldPastTheTimeoutIsABusyError) {
  const std::string p = make_store("locked.db");
  Store s = Store::open(p);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(p.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const pid_t pid = fork();  // the child checks, so that the parent can release the lock after
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int rc = 3;
    try {
      s.learn(std::vector<std::string>{"a"}, Outcome::turn(1.0f));
      rc = 1;
    } catch (const Error& e) {
      rc = e.code() == ErrorCode::busy &&
                   std::string(e.what()).find("locked by another connection") != std::string::npos
               ? 0
               : 2;
    }
    _exit(rc);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);  // about 10 s: the busy timeout
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "exit " << WEXITSTATUS(status) << " (1: no error, 2: another error)";
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  for (const Edge& e : Store::open(p).edges()) EXPECT_EQ(e.success_rate, 0.5f);
}

// A cap at the current size: adding nodes fails with a clear error; the loaded graph and the
// file keep their three nodes.
TEST_F(StoreFaults, AFullStoreRefusesTheWriteAndStaysAsItWas) {
  const std::string p = make_store("full.db");
  Store s = Store::open(p);
  s.set_max_file_bytes(static_cast<std::int64_t>(fs::file_size(p)));
  std::vector<Node> many(400);
  std::vector<float> emb;
  for (std::size_t i = 0; i < many.size(); ++i) {
    many[i].id = "bulk" + std::to_string(i);
    many[i].type = "concept";
    many[i].content = std::string(200, 'x');
    emb.insert(emb.end(), {1, 1, 0, 0});
  }
  expect_error([&] { s.add_nodes(many, emb); }, ErrorCode::io_error, "the store is full");
  EXPECT_EQ(s.num_nodes(), 3);
  EXPECT_EQ(s.edges().size(), 3u);
  // A small write that fits still works, and the file holds exactly what the store shows.
  s.set_edge_weight("b", "c", "LINK", 0.25f);
  const Store again = Store::open(p);
  EXPECT_EQ(again.num_nodes(), 3);
  EXPECT_EQ(again.edges()[2].weight, 0.25f);
  expect_error([&] { s.set_max_file_bytes(0); }, ErrorCode::invalid_argument, "positive");
}

// A page of the b-tree overwritten: open fails with parse_error naming the corruption, and the
// file is left byte for byte as it was.
TEST_F(StoreFaults, ACorruptedFileFailsAtOpenAndIsLeftAlone) {
  const std::string p = make_store("corrupt.db");
  const std::string good = bytes_of(p);
  ASSERT_GE(good.size(), 3 * 4096u);
  std::string bad = good;
  for (std::size_t i = 4096 + 8; i < 4096 + 200; ++i) bad[i] = static_cast<char>(0xA5 ^ i);
  { std::ofstream(p, std::ios::binary | std::ios::trunc) << bad; }
  expect_error([&] { Store::open(p); }, ErrorCode::parse_error, "corrupt");
  EXPECT_EQ(bytes_of(p), bad);
  // A file that is not SQLite at all.
  { std::ofstream(path("text.db")) << "nodes,edges\n1,2\n"; }
  expect_error([&] { Store::open(path("text.db")); }, ErrorCode::parse_error,
               "not a relevance store");
}

}  // namespace
}  // namespace mpe::relevance
