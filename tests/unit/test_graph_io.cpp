// Matrix Market and edge-list files: round trips, symmetric expansion, relabelling, the Cora
// citation graph, malformed files (parse_error with file:line) and failed writes (io_error).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>
#include <mpe/graph.hpp>

#include "support/errors.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

namespace fs = std::filesystem;

using test::expect_error;

// Each test gets a fresh directory of its own and removes it afterwards.
class GraphFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("mpe_graph_io_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    return out;
  }
  static std::string slurp(const std::string& p) {
    std::ostringstream s;
    s << std::ifstream(p).rdbuf();
    return s.str();
  }
  fs::path dir_;
};

class MatrixMarketFile : public GraphFileTest {};
class EdgeListFile : public GraphFileTest {};

void expect_same_coo(const Coo& got, const Coo& want) {
  EXPECT_EQ(got.num_rows, want.num_rows);
  EXPECT_EQ(got.num_cols, want.num_cols);
  EXPECT_EQ(got.rows, want.rows);
  EXPECT_EQ(got.cols, want.cols);
  EXPECT_EQ(got.weights, want.weights);  // bitwise-equal floats
}

TEST_F(MatrixMarketFile, RoundTripKeepsEveryWeightBit) {
  Csr csr = test::random_csr(60, 45, 4.0, true, 11);
  float* w = csr.weights.data<float>();
  const float awkward[] = {1.f / 3, 1e-30f, -7.1234567e20f, 3.4e38f, 1e-40f, -0.f, 16777217.f};
  for (std::size_t k = 0; k < std::size(awkward); ++k) w[k] = awkward[k];
  const std::string p = path("w.mtx");
  write_matrix_market(p, csr);
  expect_same_coo(read_matrix_market(p), csr_to_coo(csr));
  std::istringstream text(slurp(p));
  std::string banner, size;
  std::getline(text, banner);
  do std::getline(text, size);
  while (!size.empty() && size[0] == '%');
  EXPECT_EQ(banner, "%%MatrixMarket matrix coordinate real general");
  EXPECT_EQ(size, "60 45 " + std::to_string(csr.nnz()));
  EXPECT_EQ(entries(), std::vector<std::string>{"w.mtx"});  // no temporary file left
}

TEST_F(MatrixMarketFile, RoundTripPatternNonSquareAndEmpty) {
  const Csr csr = test::make_csr(3, 5, {0, 2, 2, 3}, {4, 0, 2});  // row 1 empty
  write_matrix_market(path("p.mtx"), csr);
  EXPECT_EQ(slurp(path("p.mtx")).rfind("%%MatrixMarket matrix coordinate pattern general\n", 0),
            0u);
  const Coo back = read_matrix_market(path("p.mtx"));
  EXPECT_TRUE(back.weights.empty());
  expect_same_coo(back, csr_to_coo(csr));
  for (const Csr& empty :
       {test::make_csr(4, 4, {0, 0, 0, 0, 0}, {}), test::make_csr(0, 0, {0}, {})}) {
    write_matrix_market(path("e.mtx"), empty);
    expect_same_coo(read_matrix_market(path("e.mtx")), csr_to_coo(empty));
  }
}

TEST_F(MatrixMarketFile, CaseInsensitiveBannerCommentsBlankLinesAndIntegers) {
  const std::string p = write("i.mtx",
                              "%%matrixmarket MATRIX Coordinate Integer GENERAL\r\n% comment\n\n"
                              "  % indented comment\n2 3 2\n1 3 7\n\n2 1 -4\n");
  const Coo coo = read_matrix_market(p);
  EXPECT_EQ(coo.num_rows, 2);
  EXPECT_EQ(coo.num_cols, 3);
  EXPECT_EQ(coo.rows, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(coo.cols, (std::vector<std::int64_t>{2, 0}));
  EXPECT_EQ(coo.weights, (std::vector<float>{7.f, -4.f}));
}

TEST_F(MatrixMarketFile, SymmetricAndSkewFilesExpandToTheDenseMatrix) {
  const int n = 9;
  std::mt19937 rng(5);
  for (const std::string symmetry : {"symmetric", "skew-symmetric"}) {
    const double sign = symmetry == "symmetric" ? 1 : -1;
    std::vector<double> dense(n * n, 0.0);
    std::ostringstream body;
    int count = 0;
    for (int i = 0; i < n; ++i) {  // the lower triangle, as the format stores it
      for (int j = 0; j <= i; ++j) {
        if (rng() % 3 != 0 || (sign < 0 && i == j)) continue;
        const double v = static_cast<int>(rng() % 19) - 9 + 0.5;
        body << i + 1 << ' ' << j + 1 << ' ' << v << '\n';
        dense[i * n + j] = v;
        dense[j * n + i] = sign * v;
        ++count;
      }
    }
    const std::string p = write("s.mtx", "%%MatrixMarket matrix coordinate real " + symmetry +
                                             "\n" + std::to_string(n) + " " + std::to_string(n) +
                                             " " + std::to_string(count) + "\n" + body.str());
    const Coo coo = read_matrix_market(p);
    std::vector<double> got(n * n, 0.0);
    std::vector<int> hits(n * n, 0);
    for (std::size_t k = 0; k < coo.rows.size(); ++k) {
      got[coo.rows[k] * n + coo.cols[k]] = coo.weights[k];
      ++hits[coo.rows[k] * n + coo.cols[k]];
    }
    EXPECT_EQ(got, dense) << symmetry;
    EXPECT_EQ(*std::max_element(hits.begin(), hits.end()), 1) << "diagonal stored once";
  }
  const Coo pat = read_matrix_market(
      write("p.mtx", "%%MatrixMarket matrix coordinate pattern symmetric\n3 3 3\n1 1\n3 1\n3 2\n"));
  EXPECT_TRUE(pat.weights.empty());
  EXPECT_EQ(pat.rows, (std::vector<std::int64_t>{0, 2, 0, 2, 1}));
  EXPECT_EQ(pat.cols, (std::vector<std::int64_t>{0, 0, 2, 1, 2}));
}

TEST_F(MatrixMarketFile, MalformedFilesNameFileAndLine) {
  const std::string head = "%%MatrixMarket matrix coordinate real general\n";
  const std::string pat = "%%MatrixMarket matrix coordinate pattern general\n";
  const std::string intg = "%%MatrixMarket matrix coordinate integer general\n";
  struct Case {
    std::string text;
    int line;
    std::string needle;
  };
  const Case cases[] = {
      {"", 1, "empty file"},
      {"%MatrixMarket matrix coordinate real general\n1 1 0\n", 1, "expected '%%MatrixMarket"},
      {"%%MatrixMarket matrix coordinate real\n1 1 0\n", 1, "expected '%%MatrixMarket"},
      {"%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n", 1, "format 'array'"},
      {"%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n", 1, "field 'complex'"},
      {"%%MatrixMarket matrix coordinate real hermitian\n1 1 0\n", 1, "symmetry 'hermitian'"},
      {"%%MatrixMarket vector coordinate real general\n1 1 0\n", 1, "object 'vector'"},
      {"%%MatrixMarket matrix coordinate pattern skew-symmetric\n1 1 0\n", 1, "skew"},
      {head + "% only comments\n", 2, "missing the size line"},
      {head + "2 x 1\n", 2, "size line"},
      {head + "-2 2 1\n", 2, "size line"},
      {head + "2 2\n", 2, "size line"},
      {"%%MatrixMarket matrix coordinate real symmetric\n2 3 0\n", 2, "must be square"},
      {head + "2 2 3\n1 1 1\n2 2 1\n", 4, "file ends after 2 entries, 3 declared"},
      {head + "2 2 1\n1 1 1\n2 2 1\n", 4, "more entries than the 1 declared"},
      {head + "2 2 1\n0 1 1\n", 3, "entry (0, 1) is outside"},
      {head + "2 2 2\n1 1 1\n3 1 1\n", 4, "entry (3, 1) is outside"},
      {head + "2 2 1\n1 3 1\n", 3, "entry (1, 3) is outside"},
      {head + "2 2 1\na 1 1\n", 3, "expected 'row col value'"},
      {head + "2 2 1\n1 1 abc\n", 3, "expected 'row col value'"},
      {head + "2 2 1\n1 1\n", 3, "expected 'row col value'"},
      {head + "2 2 1\n1.0 1 2\n", 3, "expected 'row col value'"},
      {head + "2 2 1\n1 1 nan\n", 3, "value 'nan' is not finite"},
      {head + "2 2 1\n1 1 1e60\n", 3, "value '1e60' is not finite"},
      {head + "2 2 2\n1 1 1\n2", 4, "expected 'row col value'"},
      {pat + "2 2 1\n1 1 1\n", 3, "expected 'row col'"},
      {intg + "2 2 1\n1 1 1.5\n", 3, "three integers"},
      {"%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n1 1 3\n", 3, "diagonal"},
  };
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string p = write("bad" + std::to_string(i++) + ".mtx", c.text);
    expect_error([&] { read_matrix_market(p); }, ErrorCode::parse_error,
                 p + ":" + std::to_string(c.line) + ": ");
    expect_error([&] { read_matrix_market(p); }, ErrorCode::parse_error, c.needle);
  }
}

TEST_F(MatrixMarketFile, UnreadableAndUnwritablePathsAreIoErrors) {
  expect_error([&] { read_matrix_market(path("absent.mtx")); }, ErrorCode::io_error, "absent.mtx");
  expect_error([&] { read_matrix_market(dir_.string()); }, ErrorCode::io_error, "directory");
  const Csr csr = test::random_csr(5, 5, 2.0, true, 3);
  expect_error([&] { write_matrix_market(path("no/such/dir/out.mtx"), csr); }, ErrorCode::io_error,
               "out.mtx");
  fs::create_directories(dir_ / "taken");  // renaming a file over a directory fails
  expect_error([&] { write_matrix_market(path("taken"), csr); }, ErrorCode::io_error, "taken");
  EXPECT_EQ(entries(), std::vector<std::string>{"taken"});
  EXPECT_TRUE(fs::is_empty(dir_ / "taken"));
  if (geteuid() != 0) {  // root writes anywhere
    fs::permissions(dir_ / "taken", fs::perms::owner_read | fs::perms::owner_exec);
    expect_error([&] { write_matrix_market(path("taken/x.mtx"), csr); }, ErrorCode::io_error,
                 "x.mtx");
    fs::permissions(dir_ / "taken", fs::perms::owner_all);
    EXPECT_TRUE(fs::is_empty(dir_ / "taken"));
  }
}

TEST_F(MatrixMarketFile, OverwriteReplacesAndInvalidCsrLeavesTheOldFile) {
  const std::string p = path("g.mtx");
  write_matrix_market(p, test::random_csr(8, 8, 2.0, true, 1));
  const Csr second = test::random_csr(6, 7, 3.0, false, 2);
  write_matrix_market(p, second);
  expect_same_coo(read_matrix_market(p), csr_to_coo(second));
  const std::string before = slurp(p);
  expect_error(
      [&] {
        write_matrix_market(p, test::make_csr(1, 1, {0, 1}, {4}));
      },
      ErrorCode::invalid_graph, "col_indices[0] = 4");
  EXPECT_EQ(slurp(p), before);
  EXPECT_EQ(entries(), std::vector<std::string>{"g.mtx"});
}

TEST_F(EdgeListFile, SeparatorsCommentsAndBlankLinesGiveTheSameEdges) {
  const std::string texts[] = {
      "0,1\n2,3\n",
      "0\t1\n2\t3\n",
      "0 1\n  2   3  \n",
      " 0 , 1 \n2,\t3\n",
      "# c\n% c\n\n0 1 # trailing\n2\t3 % trailing\n",
      "0 1\r\n2 3\r\n",
  };
  int i = 0;
  for (const auto& text : texts) {
    SCOPED_TRACE(text);
    const EdgeList el = read_edge_list(write("e" + std::to_string(i++) + ".txt", text));
    EXPECT_EQ(el.coo.num_rows, 4);
    EXPECT_EQ(el.coo.num_cols, 4);
    EXPECT_EQ(el.coo.rows, (std::vector<std::int64_t>{0, 2}));
    EXPECT_EQ(el.coo.cols, (std::vector<std::int64_t>{1, 3}));
    EXPECT_TRUE(el.coo.weights.empty());
    EXPECT_TRUE(el.node_ids.empty());
  }
}

TEST_F(EdgeListFile, HeaderWeightsAndRelabelling) {
  const std::string p = write("w.csv", "# made by hand\nsrc,dst,w\n9,0,0.5\n0,9,-2e3\n4,4,1\n");
  EdgeListOptions opt;
  opt.header = true;
  const EdgeList el = read_edge_list(p, opt);
  EXPECT_EQ(el.coo.num_rows, 10);  // max id + 1
  EXPECT_EQ(el.coo.rows, (std::vector<std::int64_t>{9, 0, 4}));
  EXPECT_EQ(el.coo.weights, (std::vector<float>{0.5f, -2000.f, 1.f}));
  opt.relabel = true;
  const EdgeList rl = read_edge_list(p, opt);
  EXPECT_EQ(rl.node_ids, (std::vector<std::string>{"9", "0", "4"}));
  EXPECT_EQ(rl.coo.num_rows, 3);
  EXPECT_EQ(rl.coo.rows, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(rl.coo.cols, (std::vector<std::int64_t>{1, 0, 2}));

  const std::string s = write("s.txt", "paper_b cites_a\nx paper_b\ncites_a x\n");
  const EdgeList named = read_edge_list(s, EdgeListOptions{true, false});
  EXPECT_EQ(named.node_ids, (std::vector<std::string>{"paper_b", "cites_a", "x"}));
  EXPECT_EQ(named.coo.rows, (std::vector<std::int64_t>{0, 2, 1}));
  EXPECT_EQ(named.coo.cols, (std::vector<std::int64_t>{1, 0, 2}));
  expect_error([&] { read_edge_list(s); }, ErrorCode::parse_error, s + ":1: node id 'paper_b'");
}

TEST_F(EdgeListFile, MalformedLinesNameFileAndLine) {
  const std::pair<std::string, std::string> cases[] = {
      {"1 2\n3\n", ":2: expected 'src dst'"},
      {"1 2\n3 4 5 6\n", ":2: expected 'src dst'"},
      {"1 2\n\n3 4 5\n", ":3: 3 fields, but earlier lines have 2"},
      {"1 2 1\n3 4\n", ":2: 2 fields, but earlier lines have 3"},
      {"-1 2\n", ":1: node id '-1'"},
      {"1.5 2\n", ":1: node id '1.5'"},
      {"1 2147483647\n", ":1: node id '2147483647'"},
      {"1 2 x\n", ":1: weight 'x'"},
      {"1 2 nan\n", ":1: weight 'nan'"},
      {"1 2 1e60\n", ":1: weight '1e60'"},
      {"1,,2\n", ":1: empty field"},
      {"0,1\n1,2,\n", ":2: empty field"},
  };
  int i = 0;
  for (const auto& [text, needle] : cases) {
    const std::string p = write("bad" + std::to_string(i++) + ".txt", text);
    expect_error([&] { read_edge_list(p); }, ErrorCode::parse_error, p + needle);
  }
  expect_error([&] { read_edge_list(path("absent.txt")); }, ErrorCode::io_error, "absent.txt");
}

TEST_F(EdgeListFile, CsvWriteRoundTripAndFailedWrite) {
  for (bool weighted : {false, true}) {
    const Csr csr = test::random_csr(30, 30, 3.0, weighted, 21);
    const std::string p = path(weighted ? "w.csv" : "u.csv");
    write_edge_list_csv(p, csr);
    EXPECT_EQ(slurp(p).rfind(weighted ? "src,dst,weight\n" : "src,dst\n", 0), 0u);
    const EdgeList back = read_edge_list(p, EdgeListOptions{false, true});
    const Coo want = csr_to_coo(csr);
    EXPECT_EQ(back.coo.rows, want.rows);
    EXPECT_EQ(back.coo.cols, want.cols);
    EXPECT_EQ(back.coo.weights, want.weights);
  }
  const Csr csr = test::random_csr(4, 4, 1.0, false, 1);
  expect_error([&] { write_edge_list_csv(path("none/x.csv"), csr); }, ErrorCode::io_error, "x.csv");
  EXPECT_EQ(entries().size(), 2u);
}

TEST(EdgeListCora, CitationGraphRelabelsToTheExpectedNodes) {
  const std::string p = std::string(MPE_SOURCE_DIR) + "/data/cora/cora.cites";
  // Independent reading: whitespace-separated pairs, ids numbered in order of first appearance.
  std::ifstream in(p);
  ASSERT_TRUE(in.good()) << p;
  std::vector<std::string> src, dst, order;
  std::map<std::string, std::int64_t> index;
  for (std::string a, b; in >> a >> b;) {
    src.push_back(a);
    dst.push_back(b);
    for (const auto& id : {a, b}) {
      if (index.emplace(id, static_cast<std::int64_t>(order.size())).second) order.push_back(id);
    }
  }
  ASSERT_EQ(src.size(), 5429u);
  ASSERT_EQ(order.size(), 2708u);

  const EdgeList el = read_edge_list(p, EdgeListOptions{true, false});
  EXPECT_EQ(el.coo.num_rows, 2708);
  EXPECT_EQ(el.coo.num_cols, 2708);
  EXPECT_EQ(el.node_ids, order);
  ASSERT_EQ(el.coo.rows.size(), src.size());
  for (std::size_t k = 0; k < src.size(); ++k) {
    ASSERT_EQ(el.coo.rows[k], index.at(src[k])) << "edge " << k;
    ASSERT_EQ(el.coo.cols[k], index.at(dst[k])) << "edge " << k;
  }
  const Csr pull = csr_from_coo(transposed(el.coo));
  validate(pull);
  const auto deg = row_degrees(pull);
  EXPECT_EQ(std::accumulate(deg.begin(), deg.end(), std::int64_t{0}), 5429);
}

}  // namespace
}  // namespace mpe
