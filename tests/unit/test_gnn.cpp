// GNN layers against float64 references written from their definitions, the .npy weight
// folders (including malformed ones) and, when present, PyTorch Geometric's own outputs.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <mpe/gnn.hpp>
#include <mpe/npy.hpp>

#include "support/errors.hpp"
#include "support/graph_mp_ref.hpp"
#include "support/reference.hpp"

namespace fs = std::filesystem;

namespace mpe {
namespace {

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    ASSERT_NEAR(got[k], want[k], tol * (1.0 + std::fabs(want[k]))) << "element " << k;
  }
}

Tensor t2(const std::vector<float>& v, std::int64_t a, std::int64_t b) {
  return Tensor::from_vector(v, {a, b});
}
Tensor t1(const std::vector<float>& v) {
  return Tensor::from_vector(v, {static_cast<std::int64_t>(v.size())});
}

// 30 nodes: random in-edges incl. self-loops, duplicates and empty rows.
struct Case {
  Csr g;
  std::vector<float> x;
  std::int64_t n = 30, in = 6;
};
Case make_case(bool weighted, std::uint64_t seed) {
  Case c;
  c.g = test::random_csr(c.n, c.n, 3.0, false, seed);
  if (weighted) {  // positive weights (GCN degrees)
    c.g.weights = t1(test::random_floats(static_cast<std::size_t>(c.g.nnz()), 0.2f, 2.f, seed + 1));
  }
  c.x = test::random_floats(static_cast<std::size_t>(c.n * c.in), -1.f, 1.f, seed + 2);
  return c;
}

TEST(Gnn, LinearMatchesReference) {
  for (auto [n, k, m] :
       {std::array<std::int64_t, 3>{1, 1, 1}, {7, 13, 5}, {33, 300, 17}, {5, 0, 3},
        {70, 41, 50}, {130, 64, 32}}) {
    const auto x = test::random_floats(static_cast<std::size_t>(n * k), -1.f, 1.f, 1);
    const auto w = test::random_floats(static_cast<std::size_t>(m * k), -1.f, 1.f, 2);
    const auto b = test::random_floats(static_cast<std::size_t>(m), -1.f, 1.f, 3);
    for (Activation act : {Activation::none, Activation::relu}) {
      const auto got = gnn::linear(t2(x, n, k), t2(w, m, k), t1(b), act).to_vector<float>();
      expect_close(got, test::linear_ref(test::to_double(x), n, k, w, m, b, act), 1e-5);
    }
  }
  test::expect_error(
      [] {
        gnn::linear(Tensor::zeros({2, 3}, DType::f32), Tensor::zeros({4, 2}, DType::f32));
      },
      ErrorCode::shape_mismatch, "do not fit");
}

TEST(Gnn, GcnMatchesReference) {
  for (bool weighted : {false, true}) {
    const Case c = make_case(weighted, weighted ? 40 : 41);
    const std::int64_t out = 4;
    gnn::GcnConv l{t2(test::random_floats(out * c.in, -1.f, 1.f, 7), out, c.in),
                   t1(test::random_floats(out, -1.f, 1.f, 8))};
    const auto got = l.forward(gnn::gcn_normalize(c.g), t2(c.x, c.n, c.in)).to_vector<float>();
    expect_close(
        got,
        test::gcn_ref(c.g, c.x, c.in, l.weight.to_vector<float>(), out, l.bias.to_vector<float>()),
        1e-5);
  }
}

TEST(Gnn, GcnNormalizeAddsOneLoopPerNode) {
  // 0 <- 0 (twice), 0 <- 1, 1 <- 0, 2 empty.
  const Csr g = test::make_csr(3, 3, {0, 3, 4, 4}, {0, 0, 1, 0});
  const Csr a = gnn::gcn_normalize(g);
  EXPECT_EQ(a.row_offsets.to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 2, 4, 5}));
  EXPECT_EQ(a.col_indices.to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 1, 0, 1, 2}));
  const auto w = a.weights.to_vector<float>();  // degrees 2, 2, 1
  for (float v : {w[0], w[1], w[2], w[3]}) EXPECT_FLOAT_EQ(v, 0.5f);
  EXPECT_FLOAT_EQ(w[4], 1.0f);
  const Csr loops = gnn::with_self_loops(g);
  EXPECT_EQ(loops.col_indices.to_vector<std::int32_t>(),
            (std::vector<std::int32_t>{0, 1, 0, 1, 2}));
  EXPECT_FALSE(loops.weighted());
  test::expect_error(
      [] {
        gnn::gcn_normalize(test::make_csr(1, 2, {0, 1}, {1}));
      },
      ErrorCode::invalid_graph, "square");
}

TEST(Gnn, SageMatchesReference) {
  const Case c = make_case(false, 50);
  const std::int64_t out = 5;
  gnn::SageConv l{t2(test::random_floats(out * c.in, -1.f, 1.f, 1), out, c.in),
                  t1(test::random_floats(out, -1.f, 1.f, 2)),
                  t2(test::random_floats(out * c.in, -1.f, 1.f, 3), out, c.in)};
  const auto got = l.forward(c.g, t2(c.x, c.n, c.in)).to_vector<float>();
  expect_close(
      got,
      test::sage_ref(c.g, c.x, c.in, l.lin_l_weight.to_vector<float>(),
                     l.lin_l_bias.to_vector<float>(), l.lin_r_weight.to_vector<float>(), out),
      1e-5);
}

TEST(Gnn, GinMatchesReference) {
  const Case c = make_case(false, 60);
  const std::int64_t hid = 8, out = 3;
  gnn::GinConv l;
  l.eps = 0.25f;
  l.w1 = t2(test::random_floats(hid * c.in, -1.f, 1.f, 1), hid, c.in);
  l.b1 = t1(test::random_floats(hid, -1.f, 1.f, 2));
  l.w2 = t2(test::random_floats(out * hid, -1.f, 1.f, 3), out, hid);
  l.b2 = t1(test::random_floats(out, -1.f, 1.f, 4));
  const auto got = l.forward(c.g, t2(c.x, c.n, c.in)).to_vector<float>();
  expect_close(
      got,
      test::gin_ref(c.g, c.x, c.in, l.eps, l.w1.to_vector<float>(), l.b1.to_vector<float>(), hid,
                    l.w2.to_vector<float>(), l.b2.to_vector<float>(), out),
      1e-5);
}

TEST(Gnn, GatMatchesReference) {
  const Case c = make_case(false, 70);
  for (auto [heads, concat] : {std::pair<std::int64_t, bool>{1, true}, {3, true}, {3, false}}) {
    const std::int64_t C = 4, hc = heads * C;
    gnn::GatConv l;
    l.heads = heads;
    l.channels = C;
    l.concat = concat;
    l.weight = t2(test::random_floats(hc * c.in, -1.f, 1.f, 1), hc, c.in);
    l.att_src = t1(test::random_floats(hc, -1.f, 1.f, 2));
    l.att_dst = t1(test::random_floats(hc, -1.f, 1.f, 3));
    l.bias = t1(test::random_floats(concat ? hc : C, -1.f, 1.f, 4));
    const auto got = l.forward(gnn::with_self_loops(c.g), t2(c.x, c.n, c.in)).to_vector<float>();
    expect_close(got,
                 test::gat_ref(c.g, c.x, c.in, l.weight.to_vector<float>(),
                               l.att_src.to_vector<float>(), l.att_dst.to_vector<float>(),
                               l.bias.to_vector<float>(), heads, C, concat, 0.2),
                 1e-5);
  }
}

// A scratch folder removed on scope exit.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() /
             (name + "_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
              std::to_string(reinterpret_cast<std::uintptr_t>(this)))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& key) const { return (path / (key + ".npy")).string(); }
};

TEST(Gnn, LoadsWeightFoldersAndRejectsBadOnes) {
  const Case c = make_case(false, 80);
  TempDir dir("mpe_gnn_weights");
  const std::int64_t H = 2, C = 3;
  write_npy(dir.file("lin.weight"),
            t2(test::random_floats(H * C * c.in, -1.f, 1.f, 1), H * C, c.in));
  write_npy(dir.file("att_src"),
            Tensor::from_vector(test::random_floats(H * C, -1.f, 1.f, 2), {1, H, C}));
  write_npy(dir.file("att_dst"),
            Tensor::from_vector(test::random_floats(H * C, -1.f, 1.f, 3), {1, H, C}));
  write_npy(dir.file("bias"), t1(test::random_floats(C, -1.f, 1.f, 4)));
  const gnn::GatConv gat = gnn::GatConv::load(dir.path.string());
  EXPECT_EQ(gat.heads, H);
  EXPECT_EQ(gat.channels, C);
  EXPECT_FALSE(gat.concat);  // bias of C entries: heads averaged
  EXPECT_EQ(gat.forward(gnn::with_self_loops(c.g), t2(c.x, c.n, c.in)).shape(), (Shape{c.n, C}));

  // GCN folder: the same lin.weight; bias must match its rows.
  using test::expect_error;
  expect_error([&] { gnn::GcnConv::load(dir.path.string()); }, ErrorCode::shape_mismatch,
               "bias.npy");
  fs::remove(dir.file("bias"));
  EXPECT_FALSE(gnn::GcnConv::load(dir.path.string()).bias.defined());
  expect_error([&] { gnn::SageConv::load(dir.path.string()); }, ErrorCode::io_error,
               "lin_l.weight.npy");
  write_npy(dir.file("att_src"), t1(test::random_floats(H * C, -1.f, 1.f, 2)));
  expect_error([&] { gnn::GatConv::load(dir.path.string()); }, ErrorCode::parse_error,
               "att_src.npy");
  write_npy(dir.file("nn.0.weight"), t2({1.f, NAN}, 1, 2));
  write_npy(dir.file("nn.0.bias"), t1({0.f}));
  write_npy(dir.file("nn.2.weight"), t2({1.f}, 1, 1));
  write_npy(dir.file("nn.2.bias"), t1({0.f}));
  expect_error([&] { gnn::GinConv::load(dir.path.string()); }, ErrorCode::parse_error,
               "non-finite");
  write_npy(dir.file("nn.0.weight"), t2({1.f, 2.f}, 1, 2));
  write_npy(dir.file("eps"), t1({0.5f}));
  EXPECT_FLOAT_EQ(gnn::GinConv::load(dir.path.string()).eps, 0.5f);
  write_npy(dir.file("nn.2.weight"), t2({1.f, 2.f}, 1, 2));
  expect_error([&] { gnn::GinConv::load(dir.path.string()); }, ErrorCode::shape_mismatch,
               "nn.2.weight.npy");
  { std::ofstream(dir.file("lin_l.weight")) << "not a numpy file"; }
  expect_error([&] { gnn::SageConv::load(dir.path.string()); }, ErrorCode::parse_error,
               "lin_l.weight.npy");
}

// Outputs of PyTorch Geometric's layers on one small graph, saved by
// bench/peers/make_pyg_fixtures.py: each layer's folder holds its weights (state_dict keys),
// and x.npy, edge_index.npy and <layer>/out.npy hold the input and PyG's output.
TEST(Gnn, MatchesPytorchGeometricFixtures) {
  const fs::path root = fs::path(MPE_SOURCE_DIR) / "tests/data/pyg";
  if (!fs::exists(root / "edge_index.npy")) GTEST_SKIP() << "no PyG fixtures under " << root;
  const Tensor x = read_npy_f32((root / "x.npy").string());
  const auto ei = read_npy((root / "edge_index.npy").string());
  ASSERT_EQ(ei.rank(), 2);
  const auto e = ei.to_vector<std::int64_t>();
  const std::int64_t E = ei.dim(1);
  Coo coo;
  coo.num_rows = coo.num_cols = x.dim(0);
  for (std::int64_t k = 0; k < E; ++k) {
    coo.rows.push_back(e[static_cast<std::size_t>(E + k)]);  // target
    coo.cols.push_back(e[static_cast<std::size_t>(k)]);      // source
  }
  const Csr g = csr_from_coo(coo);
  auto check = [&](const std::string& layer, const Tensor& got) {
    SCOPED_TRACE(layer);
    const auto want = read_npy_f32((root / layer / "out.npy").string()).to_vector<float>();
    const auto y = got.to_vector<float>();
    ASSERT_EQ(y.size(), want.size());
    for (std::size_t k = 0; k < y.size(); ++k) {
      ASSERT_NEAR(y[k], want[k], 1e-4 * std::max(1.0, std::fabs(double(want[k]))))
          << "element " << k;
    }
  };
  check("gcn", gnn::GcnConv::load((root / "gcn").string()).forward(gnn::gcn_normalize(g), x));
  check("sage", gnn::SageConv::load((root / "sage").string()).forward(g, x));
  check("gin", gnn::GinConv::load((root / "gin").string()).forward(g, x));
  check("gat", gnn::GatConv::load((root / "gat").string()).forward(gnn::with_self_loops(g), x));
  if (fs::exists(root / "gat_mean")) {
    check("gat_mean",
          gnn::GatConv::load((root / "gat_mean").string()).forward(gnn::with_self_loops(g), x));
  }
}

}  // namespace
}  // namespace mpe

namespace mpe {
namespace {

// The Cora citation graph (2,708 papers, 5,429 links, used undirected) with seeded random
// features: every layer against its float64 reference.
TEST(Gnn, CoraLayersMatchReferences) {
  EdgeListOptions opt;
  opt.relabel = true;
  const EdgeList el = read_edge_list(std::string(MPE_SOURCE_DIR) + "/data/cora/cora.cites", opt);
  CsrBuildOptions b;
  b.symmetrize = true;
  b.duplicates = Duplicates::first;
  const Csr g = csr_from_coo(el.coo, b);
  ASSERT_EQ(g.num_rows, 2708);
  const std::int64_t n = g.num_rows, in = 8, out = 4;
  const auto x = test::random_floats(static_cast<std::size_t>(n * in), -1.f, 1.f, 90);
  const Tensor xt = t2(x, n, in);
  const auto w = test::random_floats(out * in, -1.f, 1.f, 91);
  const auto bias = test::random_floats(out, -1.f, 1.f, 92);
  gnn::GcnConv gcn{t2(w, out, in), t1(bias)};
  expect_close(gcn.forward(gnn::gcn_normalize(g), xt).to_vector<float>(),
               test::gcn_ref(g, x, in, w, out, bias), 1e-5);
  const auto wr = test::random_floats(out * in, -1.f, 1.f, 93);
  gnn::SageConv sage{t2(w, out, in), t1(bias), t2(wr, out, in)};
  expect_close(sage.forward(g, xt).to_vector<float>(), test::sage_ref(g, x, in, w, bias, wr, out),
               1e-5);
  gnn::GatConv gat;
  gat.heads = 2;
  gat.channels = 2;
  gat.weight = t2(w, out, in);
  gat.att_src = t1(test::random_floats(4, -1.f, 1.f, 94));
  gat.att_dst = t1(test::random_floats(4, -1.f, 1.f, 95));
  gat.bias = t1(bias);
  expect_close(gat.forward(gnn::with_self_loops(g), xt).to_vector<float>(),
               test::gat_ref(g, x, in, w, gat.att_src.to_vector<float>(),
                             gat.att_dst.to_vector<float>(), bias, 2, 2, true, 0.2),
               1e-5);
}

}  // namespace
}  // namespace mpe
