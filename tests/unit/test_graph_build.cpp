// csr_from_coo against a dense brute-force reference over every option combination; conversions;
// validate() error cases.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <mpe/graph.hpp>

#include "support/errors.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

using Row = std::vector<std::pair<std::int64_t, float>>;  // (col, weight) in stored order

using test::expect_error;

// Entries with many repeats (a small column range for every third entry), self-loops, and
// weights that are sometimes exactly 1.
Coo random_coo(std::int64_t rows, std::int64_t cols, std::size_t count, bool weighted,
               std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> r(0, rows - 1), c(0, cols - 1);
  std::uniform_real_distribution<float> w(-4.f, 4.f);
  Coo coo;
  coo.num_rows = rows;
  coo.num_cols = cols;
  for (std::size_t k = 0; k < count; ++k) {
    const std::int64_t i = r(rng);
    coo.rows.push_back(i);
    coo.cols.push_back(k % 5 == 0 && i < cols ? i : c(rng) % (k % 3 == 0 ? 3 : cols));
    if (weighted) coo.weights.push_back(k % 4 == 0 ? 1.f : w(rng));
  }
  return coo;
}

// The expected rows, from a dense matrix of cells each listing its weights in input order
// (all originals before all mirrors). Merging policies and missing self-loops act per cell.
std::vector<Row> reference(const Coo& coo, const CsrBuildOptions& opt) {
  const auto n = static_cast<std::size_t>(coo.num_rows), m = static_cast<std::size_t>(coo.num_cols);
  std::vector<std::vector<std::vector<double>>> cell(n, std::vector<std::vector<double>>(m));
  std::vector<Row> seq(n);  // insertion order, for sort_columns = false with keep
  auto add = [&](std::int64_t r, std::int64_t c, double w) {
    cell[r][c].push_back(w);
    seq[r].push_back({c, static_cast<float>(w)});
  };
  const std::size_t count = coo.rows.size();
  auto weight = [&](std::size_t k) { return coo.weights.empty() ? 1.0 : coo.weights[k]; };
  for (std::size_t k = 0; k < count; ++k) add(coo.rows[k], coo.cols[k], weight(k));
  for (std::size_t k = 0; opt.symmetrize && k < count; ++k) {
    if (coo.rows[k] != coo.cols[k]) add(coo.cols[k], coo.rows[k], weight(k));
  }
  for (std::size_t i = 0; opt.add_self_loops && i < n; ++i) {
    if (cell[i][i].empty()) add(std::int64_t(i), std::int64_t(i), opt.self_loop_weight);
  }
  if (!opt.sort_columns && opt.duplicates == Duplicates::keep) return seq;
  std::vector<Row> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < m; ++j) {
      const auto& ws = cell[i][j];
      if (ws.empty()) continue;
      double merged = ws.front();
      switch (opt.duplicates) {
        case Duplicates::keep:
          for (double w : ws) out[i].push_back({std::int64_t(j), static_cast<float>(w)});
          continue;
        case Duplicates::sum:
          merged = 0;
          for (double w : ws) merged += w;
          break;
        case Duplicates::max: merged = *std::max_element(ws.begin(), ws.end()); break;
        case Duplicates::first: break;
      }
      out[i].push_back({std::int64_t(j), static_cast<float>(merged)});
    }
  }
  return out;
}

void expect_matches_reference(const Coo& coo, const CsrBuildOptions& opt, const std::string& what) {
  SCOPED_TRACE(what);
  const Csr csr = csr_from_coo(coo, opt);
  ASSERT_NO_THROW(validate(csr));
  ASSERT_EQ(csr.num_rows, coo.num_rows);
  ASSERT_EQ(csr.num_cols, coo.num_cols);
  const std::vector<Row> want = reference(coo, opt);
  const auto off = csr.row_offsets.to_vector<std::int64_t>();
  const auto cols = csr.col_indices.to_vector<std::int32_t>();
  const auto wts = csr.weighted() ? csr.weights.to_vector<float>() : std::vector<float>();
  bool all_ones = true;
  for (std::size_t i = 0; i < want.size(); ++i) {
    Row got;
    for (std::int64_t e = off[i]; e < off[i + 1]; ++e) {
      got.push_back({cols[e], csr.weighted() ? wts[e] : 1.f});
    }
    Row expect = want[i];
    if (!opt.sort_columns) {  // merged rows may come in any order: compare them sorted
      auto by_col = [](const auto& a, const auto& b) { return a.first < b.first; };
      if (opt.duplicates != Duplicates::keep) std::sort(got.begin(), got.end(), by_col);
    }
    ASSERT_EQ(got.size(), expect.size()) << "row " << i;
    for (std::size_t k = 0; k < got.size(); ++k) {
      all_ones = all_ones && expect[k].second == 1.f;
      ASSERT_EQ(got[k].first, expect[k].first) << "row " << i << " entry " << k;
      const double tol = opt.duplicates == Duplicates::sum ? 1e-4 : 0.0;
      ASSERT_NEAR(got[k].second, expect[k].second, tol) << "row " << i << " entry " << k;
    }
  }
  EXPECT_EQ(csr.weighted(), !all_ones) << "weights are stored exactly when one is not 1";
}

TEST(CsrBuild, EveryOptionCombinationMatchesDenseReference) {
  const Duplicates policies[] = {Duplicates::keep, Duplicates::sum, Duplicates::max,
                                 Duplicates::first};
  std::uint64_t seed = 100;
  for (std::int64_t n : {1, 2, 6, 23}) {
    for (bool weighted : {false, true}) {
      const Coo coo = random_coo(n, n, static_cast<std::size_t>(4 * n), weighted, ++seed);
      for (int bits = 0; bits < 8; ++bits) {
        for (Duplicates policy : policies) {
          CsrBuildOptions opt;
          opt.sort_columns = bits & 1;
          opt.symmetrize = bits & 2;
          opt.add_self_loops = bits & 4;
          opt.self_loop_weight = weighted ? 0.25f : 1.f;
          opt.duplicates = policy;
          expect_matches_reference(coo, opt,
                                   "n=" + std::to_string(n) + " weighted=" +
                                       std::to_string(weighted) + " bits=" + std::to_string(bits) +
                                       " policy=" + std::to_string(static_cast<int>(policy)));
        }
      }
    }
  }
}

TEST(CsrBuild, NonSquareMatchesDenseReference) {
  for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{7, 13}, {13, 7}, {1, 40}}) {
    const Coo coo = random_coo(rows, cols, 60, true, static_cast<std::uint64_t>(rows * cols));
    for (Duplicates p : {Duplicates::keep, Duplicates::sum, Duplicates::max, Duplicates::first}) {
      for (bool sort : {false, true}) {
        CsrBuildOptions opt;
        opt.duplicates = p;
        opt.sort_columns = sort;
        expect_matches_reference(coo, opt, std::to_string(rows) + "x" + std::to_string(cols));
      }
    }
    CsrBuildOptions sym;
    sym.symmetrize = true;
    expect_error([&] { csr_from_coo(coo, sym); }, ErrorCode::invalid_argument, "square");
    CsrBuildOptions loops;
    loops.add_self_loops = true;
    expect_error([&] { csr_from_coo(coo, loops); }, ErrorCode::invalid_argument, "square");
  }
}

TEST(CsrBuild, EmptyGraphsAndEmptyRows) {
  Coo none;  // 0 x 0
  const Csr zero = csr_from_coo(none);
  EXPECT_EQ(zero.nnz(), 0);
  EXPECT_EQ(zero.row_offsets.to_vector<std::int64_t>(), std::vector<std::int64_t>{0});
  EXPECT_NO_THROW(validate(zero));

  Coo four;
  four.num_rows = four.num_cols = 4;
  CsrBuildOptions opt;
  opt.add_self_loops = true;
  opt.self_loop_weight = 2.f;
  const Csr eye = csr_from_coo(four, opt);
  EXPECT_EQ(eye.row_offsets.to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(eye.col_indices.to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(eye.weights.to_vector<float>(), (std::vector<float>{2.f, 2.f, 2.f, 2.f}));

  four.rows = {3, 0};  // rows 1 and 2 stay empty
  four.cols = {1, 2};
  const Csr sparse = csr_from_coo(four);
  EXPECT_EQ(row_degrees(sparse), (std::vector<std::int64_t>{1, 0, 0, 1}));
  EXPECT_FALSE(sparse.weighted());
}

TEST(CsrBuild, OneNodeWithRepeatedSelfLoops) {
  Coo coo;
  coo.num_rows = coo.num_cols = 1;
  coo.rows = {0, 0, 0};
  coo.cols = {0, 0, 0};
  coo.weights = {2.f, 5.f, 1.f};
  CsrBuildOptions opt;
  opt.add_self_loops = true;  // present already: nothing added
  opt.symmetrize = true;      // a self-loop is its own mirror
  const std::pair<Duplicates, std::vector<float>> cases[] = {{Duplicates::keep, {2.f, 5.f, 1.f}},
                                                             {Duplicates::sum, {8.f}},
                                                             {Duplicates::max, {5.f}},
                                                             {Duplicates::first, {2.f}}};
  for (const auto& [policy, want] : cases) {
    opt.duplicates = policy;
    const Csr csr = csr_from_coo(coo, opt);
    EXPECT_EQ(csr.weights.to_vector<float>(), want);
    EXPECT_EQ(row_degrees(csr), std::vector<std::int64_t>{static_cast<std::int64_t>(want.size())});
  }
}

TEST(CsrBuild, OneRowHoldsEveryEdge) {
  const std::int64_t n = 1000;
  Coo coo;
  coo.num_rows = coo.num_cols = n;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::int64_t c = n - 1; c >= 0; --c) {
      coo.rows.push_back(n - 1);
      coo.cols.push_back(c);
      coo.weights.push_back(static_cast<float>(pass + 1));
    }
  }
  CsrBuildOptions opt;
  const Csr keep = csr_from_coo(coo, opt);
  const auto deg = row_degrees(keep);
  EXPECT_EQ(std::count(deg.begin(), deg.end(), 0), n - 1);
  EXPECT_EQ(deg.back(), 2 * n);
  const auto cols = keep.col_indices.to_vector<std::int32_t>();
  const auto w = keep.weights.to_vector<float>();
  for (std::int64_t k = 0; k < 2 * n; ++k) {
    ASSERT_EQ(cols[k], k / 2);
    ASSERT_EQ(w[k], static_cast<float>(k % 2 + 1));  // stable: first pass before second
  }
  opt.duplicates = Duplicates::sum;
  const Csr sum = csr_from_coo(coo, opt);
  EXPECT_EQ(sum.nnz(), n);
  const auto ws = sum.weights.to_vector<float>();
  EXPECT_TRUE(std::all_of(ws.begin(), ws.end(), [](float x) { return x == 3.f; }));
}

TEST(CsrBuild, InvalidCooNamesTheEntryAndValue) {
  auto base = [] {
    Coo c;
    c.num_rows = 3;
    c.num_cols = 4;
    c.rows = {0, 1, 2};
    c.cols = {3, 0, 1};
    return c;
  };
  auto check = [&](auto&& mutate, const std::string& needle) {
    Coo c = base();
    mutate(c);
    expect_error([&] { csr_from_coo(c); }, ErrorCode::invalid_graph, needle);
  };
  check([](Coo& c) { c.rows[2] = 3; }, "entry 2: row 3 is outside [0, 3)");
  check([](Coo& c) { c.rows[1] = -1; }, "entry 1: row -1");
  check([](Coo& c) { c.cols[0] = 4; }, "entry 0: column 4 is outside [0, 4)");
  check([](Coo& c) { c.cols[2] = -7; }, "entry 2: column -7");
  check([](Coo& c) { c.cols.pop_back(); }, "3 rows but 2 cols");
  check([](Coo& c) { c.weights = {1.f, 2.f}; }, "2 weights for 3 entries");
  check([](Coo& c) { c.weights = {1.f, NAN, 2.f}; }, "entry 1: weight nan");
  check([](Coo& c) { c.weights = {1.f, 2.f, -INFINITY}; }, "entry 2: weight -inf");
  check([](Coo& c) { c.num_rows = -1; }, "negative size");
}

TEST(CsrConvert, CooRoundTripTransposeDegreesAndDeepCopy) {
  const Coo coo = random_coo(9, 9, 40, true, 7);
  CsrBuildOptions opt;
  opt.duplicates = Duplicates::sum;
  const Csr csr = csr_from_coo(coo, opt);
  const Coo back = csr_to_coo(csr);
  ASSERT_EQ(back.rows.size(), static_cast<std::size_t>(csr.nnz()));
  EXPECT_TRUE(std::is_sorted(back.rows.begin(), back.rows.end()));  // row-major
  EXPECT_EQ(csr_from_coo(back, opt).col_indices.to_vector<std::int32_t>(),
            csr.col_indices.to_vector<std::int32_t>());
  const std::vector<Row> want = reference(coo, opt);
  const auto deg = row_degrees(csr);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(deg[i], std::int64_t(want[i].size()));

  const Coo t = transposed(coo);
  EXPECT_EQ(t.rows, coo.cols);
  EXPECT_EQ(t.cols, coo.rows);
  EXPECT_EQ(t.weights, coo.weights);
  const Csr ct = csr_from_coo(t, opt);  // (A^T)[j][i] == A[i][j]
  const std::vector<Row> wt = reference(t, opt);
  for (std::size_t i = 0; i < want.size(); ++i) {
    for (const auto& [j, w] : want[i]) {
      const auto& rj = wt[static_cast<std::size_t>(j)];
      auto it = std::find_if(rj.begin(), rj.end(),
                             [&](const auto& e) { return e.first == std::int64_t(i); });
      ASSERT_NE(it, rj.end());
      EXPECT_NEAR(it->second, w, 1e-4);
    }
  }
  EXPECT_EQ(ct.nnz(), csr.nnz());

  const auto original = csr.col_indices.to_vector<std::int32_t>();
  Csr copy = csr.to(Device::cpu());  // deep: writing the copy leaves the original alone
  EXPECT_EQ(copy.device(), Device::cpu());
  EXPECT_EQ(copy.col_indices.to_vector<std::int32_t>(), original);
  EXPECT_EQ(copy.weights.to_vector<float>(), csr.weights.to_vector<float>());
  copy.col_indices.data<std::int32_t>()[0] = original[0] + 1;
  copy.weights.data<float>()[0] = 1234.f;
  EXPECT_EQ(csr.col_indices.to_vector<std::int32_t>(), original);
  EXPECT_NE(csr.weights.to_vector<float>()[0], 1234.f);
}

TEST(CsrConvert, BrokenCsrIsRejectedNotRead) {
  const Csr short_offsets = test::make_csr(3, 3, {0, 1}, {0});
  expect_error([&] { row_degrees(short_offsets); }, ErrorCode::invalid_graph, "row_offsets");
  expect_error([&] { csr_to_coo(short_offsets); }, ErrorCode::invalid_graph, "row_offsets");
  const Csr past_end = test::make_csr(2, 2, {0, 1, 9}, {0, 1});
  expect_error([&] { csr_to_coo(past_end); }, ErrorCode::invalid_graph, "row_offsets[2] = 9");
}

TEST(CsrValidate, NamesTheFirstOffendingIndex) {
  auto check = [](const Csr& g, const std::string& needle) {
    expect_error([&] { validate(g); }, ErrorCode::invalid_graph, needle);
  };
  check(test::make_csr(1, 1, {2, 2}, {0, 0}), "row_offsets[0] = 2, expected 0");
  check(test::make_csr(6, 9, {0, 1, 2, 5, 7, 3, 8}, {0, 1, 2, 3, 4, 5, 6, 7}),
        "row_offsets[5] = 3 is less than row_offsets[4] = 7");
  check(test::make_csr(2, 3, {0, 2, 1}, {0, 1}), "row_offsets[2] = 1 is less than");
  check(test::make_csr(2, 3, {0, 1, 2}, {0, 1, 2}), "row_offsets[2] = 2 but there are 3");
  check(test::make_csr(2, 3, {0, 2, 4}, {0, 1, 3, 5}), "col_indices[2] = 3 is outside [0, 3)");
  check(test::make_csr(2, 3, {0, 2, 4}, {0, -2, 1, 1}), "col_indices[1] = -2");
  check(test::make_csr(2, 3, {0, 1, 3}, {0, 1, 2}, {1.f, NAN, INFINITY}), "weights[1] = nan");
  check(test::make_csr(3, 3, {0, 1, 2}, {0, 1}), "row_offsets must be int64 [4]");
  check(test::make_csr(1, 2, {0, 2}, {0, 1}, {1.f}), "weights must be float32 [2]");
  check(test::make_csr(-1, 2, {0}, {}), "negative size");
}

TEST(CsrValidate, DtypesAndMissingArrays) {
  Csr g = test::make_csr(2, 2, {0, 1, 2}, {1, 0});
  EXPECT_NO_THROW(validate(g));
  Csr bad = g;
  bad.row_offsets = Tensor::from_vector(std::vector<std::int32_t>{0, 1, 2}, {3});
  expect_error([&] { validate(bad); }, ErrorCode::invalid_graph, "row_offsets must be int64");
  bad = g;
  bad.col_indices = Tensor::from_vector(std::vector<std::int64_t>{1, 0}, {2});
  expect_error([&] { validate(bad); }, ErrorCode::invalid_graph, "col_indices must be int32");
  bad = g;
  bad.weights = Tensor::from_vector(std::vector<double>{1, 2}, {2});
  expect_error([&] { validate(bad); }, ErrorCode::invalid_graph, "weights must be float32");
  bad = g;
  bad.col_indices = Tensor();
  expect_error([&] { validate(bad); }, ErrorCode::invalid_graph, "col_indices is missing");
  bad = g;
  bad.row_offsets = Tensor::from_vector(std::vector<std::int64_t>{0, 1, 2}, {1, 3});
  expect_error([&] { validate(bad); }, ErrorCode::invalid_graph, "row_offsets must be int64 [3]");
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    EXPECT_NO_THROW(validate(test::random_csr(50, 30, 3.0, seed % 2 == 0, seed)));
  }
}

}  // namespace
}  // namespace mpe
