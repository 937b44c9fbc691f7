// CSR construction, validation and graph files, against dense brute-force references.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <mpe/graph.hpp>

#include "support/errors.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

using Dense = std::map<std::pair<std::int64_t, std::int64_t>, std::vector<float>>;

// Entries of a CSR grouped by (row, col), in stored order.
Dense dense_of(const Csr& csr) {
  Dense d;
  const Coo coo = csr_to_coo(csr);
  for (std::size_t k = 0; k < coo.rows.size(); ++k) {
    d[{coo.rows[k], coo.cols[k]}].push_back(coo.weights.empty() ? 1.f : coo.weights[k]);
  }
  return d;
}

Coo random_coo(std::int64_t n, std::size_t entries, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> node(0, n - 1);
  std::uniform_real_distribution<float> w(-3.f, 3.f);
  Coo coo;
  coo.num_rows = coo.num_cols = n;
  for (std::size_t k = 0; k < entries; ++k) {
    coo.rows.push_back(node(rng));
    coo.cols.push_back(node(rng) % (k % 3 == 0 ? 4 : n));  // some repeats on purpose
    coo.weights.push_back(w(rng));
  }
  return coo;
}

template <class Fn>
Error error_of(Fn&& fn) {
  return test::catch_error(fn);
}

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "mpe_" + name; }

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(GraphCore, DuplicatePoliciesMatchBruteForce) {
  const Coo coo = random_coo(30, 400, 1);
  // Brute force: weights per (row, col) in input order.
  Dense want;
  for (std::size_t k = 0; k < coo.rows.size(); ++k) {
    want[{coo.rows[k], coo.cols[k]}].push_back(coo.weights[k]);
  }
  for (Duplicates policy :
       {Duplicates::keep, Duplicates::sum, Duplicates::max, Duplicates::first}) {
    CsrBuildOptions opt;
    opt.duplicates = policy;
    const Csr csr = csr_from_coo(coo, opt);
    validate(csr);
    const Dense got = dense_of(csr);
    ASSERT_EQ(got.size(), want.size());
    for (const auto& [key, ws] : want) {
      const auto& g = got.at(key);
      switch (policy) {
        case Duplicates::keep: EXPECT_EQ(g, ws); break;
        case Duplicates::sum: {
          double s = 0;
          for (float w : ws) s += w;
          ASSERT_EQ(g.size(), 1u);
          EXPECT_NEAR(g[0], s, 1e-4);
          break;
        }
        case Duplicates::max:
          ASSERT_EQ(g.size(), 1u);
          EXPECT_EQ(g[0], *std::max_element(ws.begin(), ws.end()));
          break;
        case Duplicates::first:
          ASSERT_EQ(g.size(), 1u);
          EXPECT_EQ(g[0], ws.front());
          break;
      }
    }
    // Columns sorted within every row.
    const auto off = csr.row_offsets.to_vector<std::int64_t>();
    const auto cols = csr.col_indices.to_vector<std::int32_t>();
    for (std::int64_t i = 0; i < csr.num_rows; ++i) {
      for (std::int64_t e = off[i] + 1; e < off[i + 1]; ++e) ASSERT_LE(cols[e - 1], cols[e]);
    }
  }
}

TEST(GraphCore, SymmetriseAndSelfLoops) {
  Coo coo;
  coo.num_rows = coo.num_cols = 4;
  coo.rows = {0, 1, 2, 2};
  coo.cols = {1, 0, 2, 3};  // 0<->1 both ways already, a self-loop on 2, 2->3
  CsrBuildOptions opt;
  opt.symmetrize = true;
  opt.duplicates = Duplicates::first;
  opt.add_self_loops = true;
  const Csr csr = csr_from_coo(coo, opt);
  validate(csr);
  const Dense got = dense_of(csr);
  const std::vector<std::pair<std::int64_t, std::int64_t>> want = {{0, 0}, {0, 1}, {1, 0}, {1, 1},
                                                                   {2, 2}, {2, 3}, {3, 2}, {3, 3}};
  ASSERT_EQ(got.size(), want.size());
  for (const auto& key : want) EXPECT_EQ(got.count(key), 1u) << key.first << "," << key.second;
  EXPECT_FALSE(csr.weighted());  // every weight is 1
  EXPECT_EQ(row_degrees(csr), (std::vector<std::int64_t>{2, 2, 2, 2}));
  coo.num_cols = 5;
  EXPECT_EQ(error_of([&] { csr_from_coo(coo, opt); }).code(), ErrorCode::invalid_argument);
}

TEST(GraphCore, EdgeCasesEmptyRowsOneNodeOneHeavyRow) {
  Coo empty;
  empty.num_rows = 3;
  empty.num_cols = 3;
  const Csr e = csr_from_coo(empty);
  EXPECT_EQ(e.nnz(), 0);
  EXPECT_EQ(e.row_offsets.to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 0, 0, 0}));
  Coo heavy;
  heavy.num_rows = heavy.num_cols = 50;
  for (std::int64_t c = 49; c >= 0; --c) {
    heavy.rows.push_back(7);
    heavy.cols.push_back(c);
  }
  const Csr h = csr_from_coo(heavy);
  EXPECT_EQ(row_degrees(h)[7], 50);
  EXPECT_EQ(h.col_indices.to_vector<std::int32_t>()[0], 0);
  const Coo t = transposed(heavy);
  EXPECT_EQ(row_degrees(csr_from_coo(t))[7], 1);
}

TEST(GraphCore, InvalidInputNamesTheEntry) {
  Coo coo;
  coo.num_rows = coo.num_cols = 3;
  coo.rows = {0, 5};
  coo.cols = {1, 1};
  Error e = error_of([&] { csr_from_coo(coo); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_graph);
  EXPECT_NE(std::string(e.what()).find("entry 1: row 5"), std::string::npos) << e.what();
  coo.rows = {0, 1};
  coo.weights = {1.f, NAN};
  e = error_of([&] { csr_from_coo(coo); });
  EXPECT_NE(std::string(e.what()).find("entry 1: weight"), std::string::npos) << e.what();
  coo.weights = {1.f};
  EXPECT_EQ(error_of([&] { csr_from_coo(coo); }).code(), ErrorCode::invalid_graph);

  auto check = [](const Csr& g, const char* needle) {
    const Error err = error_of([&] { validate(g); });
    EXPECT_EQ(err.code(), ErrorCode::invalid_graph);
    EXPECT_NE(std::string(err.what()).find(needle), std::string::npos) << err.what();
  };
  check(test::make_csr(2, 2, {1, 1, 1}, {0}), "row_offsets[0] = 1");
  check(test::make_csr(3, 2, {0, 2, 1, 2}, {0, 1}), "row_offsets[2] = 1 is less than");
  check(test::make_csr(2, 2, {0, 1, 3}, {0, 1}), "row_offsets[2] = 3 but there are 2");
  check(test::make_csr(2, 2, {0, 1, 2}, {0, 2}), "col_indices[1] = 2 is outside");
  check(test::make_csr(2, 2, {0, 1, 2}, {0, -1}), "col_indices[1] = -1");
  check(test::make_csr(2, 2, {0, 1, 2}, {0, 1}, {1.f, INFINITY}), "weights[1]");
  check(test::make_csr(2, 2, {0, 1}, {0}), "row_offsets");
}

TEST(GraphFiles, MatrixMarketRoundTrip) {
  CsrBuildOptions opt;
  const Csr csr = csr_from_coo(random_coo(40, 300, 2), opt);
  const std::string path = temp_path("round.mtx");
  write_matrix_market(path, csr);
  const Csr back = csr_from_coo(read_matrix_market(path), opt);
  EXPECT_EQ(back.num_rows, 40);
  EXPECT_EQ(back.row_offsets.to_vector<std::int64_t>(), csr.row_offsets.to_vector<std::int64_t>());
  EXPECT_EQ(back.col_indices.to_vector<std::int32_t>(), csr.col_indices.to_vector<std::int32_t>());
  EXPECT_EQ(back.weights.to_vector<float>(), csr.weights.to_vector<float>());  // %.9g round-trips
  std::remove(path.c_str());
}

TEST(GraphFiles, MatrixMarketSymmetricPatternAndSkew) {
  const std::string path = temp_path("sym.mtx");
  write_text(path,
             "%%MatrixMarket matrix coordinate pattern symmetric\n% comment\n\n3 3 3\n1 1\n2 1\n"
             "3 2\n");
  const Coo coo = read_matrix_market(path);
  EXPECT_TRUE(coo.weights.empty());
  EXPECT_EQ(coo.rows.size(), 5u);  // the diagonal entry once, the others mirrored
  write_text(path, "%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 1 1.5\n");
  const Coo skew = read_matrix_market(path);
  EXPECT_EQ(skew.weights, (std::vector<float>{1.5f, -1.5f}));
  EXPECT_EQ(skew.rows, (std::vector<std::int64_t>{1, 0}));
  std::remove(path.c_str());
}

TEST(GraphFiles, MalformedMatrixMarketNamesFileAndLine) {
  const std::string path = temp_path("bad.mtx");
  const std::pair<const char*, const char*> cases[] = {
      {"%%MatrixMarket matrix array real general\n2 2\n", ":1: format 'array'"},
      {"%%MatrixMarket matrix coordinate complex general\n", ":1: field 'complex'"},
      {"hello\n", ":1: expected '%%MatrixMarket"},
      {"%%MatrixMarket matrix coordinate real general\n2 2\n", ":2: expected the size line"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.0\n", ":3: file ends after 1"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n0 1 1.0\n", ":3: entry (0, 1)"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 3 1.0\n", ":3: entry (1, 3)"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 x 1.0\n", ":3: expected 'row col"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n", ":3: value 'nan'"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n2 2 2\n", ":4: more entries"},
      {"%%MatrixMarket matrix coordinate real symmetric\n2 3 0\n", ":2: a symmetric matrix"},
  };
  for (const auto& [text, needle] : cases) {
    write_text(path, text);
    const Error e = error_of([&] { read_matrix_market(path); });
    EXPECT_EQ(e.code(), ErrorCode::parse_error) << e.what();
    EXPECT_NE(std::string(e.what()).find(path + needle), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
  EXPECT_EQ(error_of([&] { read_matrix_market(path); }).code(), ErrorCode::io_error);
}

TEST(GraphFiles, FailedWriteLeavesNothing) {
  const Csr csr = csr_from_coo(random_coo(5, 10, 3));
  const std::string path = temp_path("no-such-dir/out.mtx");
  EXPECT_EQ(error_of([&] { write_matrix_market(path, csr); }).code(), ErrorCode::io_error);
  EXPECT_FALSE(std::ifstream(path).good());
  // An invalid CSR is rejected before anything is written.
  const std::string ok_path = temp_path("never.mtx");
  EXPECT_EQ(error_of([&] {
              write_matrix_market(ok_path, test::make_csr(1, 1, {0, 1}, {3}));
            }).code(),
            ErrorCode::invalid_graph);
  EXPECT_FALSE(std::ifstream(ok_path).good());
}

TEST(GraphFiles, EdgeListsWithAndWithoutRelabelling) {
  const std::string path = temp_path("edges.csv");
  write_text(path, "src,dst,weight\n# comment\n3,1,0.5\n1,0,2\n\n0,3,-1\n");
  EdgeListOptions opt;
  opt.header = true;
  const EdgeList el = read_edge_list(path, opt);
  EXPECT_EQ(el.coo.num_rows, 4);
  EXPECT_EQ(el.coo.rows, (std::vector<std::int64_t>{3, 1, 0}));
  EXPECT_EQ(el.coo.cols, (std::vector<std::int64_t>{1, 0, 3}));
  EXPECT_EQ(el.coo.weights, (std::vector<float>{0.5f, 2.f, -1.f}));
  opt.relabel = true;
  const EdgeList rl = read_edge_list(path, opt);
  EXPECT_EQ(rl.node_ids, (std::vector<std::string>{"3", "1", "0"}));
  EXPECT_EQ(rl.coo.rows, (std::vector<std::int64_t>{0, 1, 2}));
  // Written back and read again: the same graph.
  const Csr csr = csr_from_coo(el.coo);
  write_edge_list_csv(path, csr);
  const Csr back = csr_from_coo(read_edge_list(path, EdgeListOptions{false, true}).coo);
  EXPECT_EQ(back.col_indices.to_vector<std::int32_t>(), csr.col_indices.to_vector<std::int32_t>());
  EXPECT_EQ(back.weights.to_vector<float>(), csr.weights.to_vector<float>());

  const std::pair<const char*, const char*> bad[] = {
      {"1 2\n3\n", ":2: expected 'src dst'"},
      {"1 2\n3 4 5\n", ":2: 3 fields, but earlier lines have 2"},
      {"1 2 x\n", ":1: weight 'x'"},
      {"a b\n", ":1: node id 'a'"},
      {"1,,2\n", ":1: empty field"},
  };
  for (const auto& [text, needle] : bad) {
    write_text(path, text);
    const Error e = error_of([&] { read_edge_list(path); });
    EXPECT_EQ(e.code(), ErrorCode::parse_error) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(GraphFiles, CoraCitationGraph) {
  const std::string path = std::string(MPE_SOURCE_DIR) + "/data/cora/cora.cites";
  std::ifstream in(path);
  std::size_t lines = 0;
  std::set<std::string> ids;
  for (std::string a, b; in >> a >> b; ++lines) {
    ids.insert(a);
    ids.insert(b);
  }
  EdgeListOptions opt;
  opt.relabel = true;
  const EdgeList el = read_edge_list(path, opt);
  EXPECT_EQ(lines, 5429u);
  EXPECT_EQ(el.coo.rows.size(), lines);
  EXPECT_EQ(el.node_ids.size(), ids.size());
  EXPECT_EQ(el.coo.num_rows, 2708);
  validate(csr_from_coo(el.coo));
}

}  // namespace
}  // namespace mpe
