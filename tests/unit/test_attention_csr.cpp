// Attention masked by a CSR neighbourhood (CPU): equal to dense attention when every row is
// complete, and against a float64 reference that walks the row's entries otherwise (random
// sparse rows, duplicates, empty rows, causal, grouped-query heads, 16-bit storage).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>
#include <mpe/attention.hpp>
#include <mpe/graph.hpp>
#include <mpe/ops.hpp>

#include "support/errors.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

struct Dims {
  std::int64_t B, Hq, Hkv, Nq, Nk, D;
};

Csr complete_csr(std::int64_t rows, std::int64_t cols) {
  Coo coo;
  coo.num_rows = rows;
  coo.num_cols = cols;
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      coo.rows.push_back(i);
      coo.cols.push_back(j);
    }
  return csr_from_coo(coo);
}

// Random rows: each entry present with probability `density`, plus a few duplicates; row
// `empty_row` (if in range) is left empty.
Csr random_csr(std::int64_t rows, std::int64_t cols, float density, std::uint64_t seed,
               std::int64_t empty_row) {
  const auto coin = test::random_floats(static_cast<std::size_t>(rows * cols), 0.f, 1.f, seed);
  Coo coo;
  coo.num_rows = rows;
  coo.num_cols = cols;
  for (std::int64_t i = 0; i < rows; ++i) {
    if (i == empty_row) continue;
    for (std::int64_t j = 0; j < cols; ++j) {
      const float c = coin[static_cast<std::size_t>(i * cols + j)];
      if (c < density) {
        coo.rows.push_back(i);
        coo.cols.push_back(j);
        if (c < density * 0.1f) {  // a duplicate entry: counts twice in the softmax
          coo.rows.push_back(i);
          coo.cols.push_back(j);
        }
      }
    }
  }
  CsrBuildOptions opt;
  opt.duplicates = Duplicates::keep;
  return csr_from_coo(coo, opt);
}

// float64: softmax over the entries of row i (causal entries dropped), entry by entry.
void csr_ref(const Dims& s, const std::vector<float>& q, const std::vector<float>& k,
             const std::vector<float>& v, const Csr& g, bool causal, double scale,
             std::vector<double>& out, std::vector<double>& lse) {
  const auto off = g.row_offsets.to_vector<std::int64_t>();
  const auto col = g.col_indices.to_vector<std::int32_t>();
  out.assign(static_cast<std::size_t>(s.B * s.Hq * s.Nq * s.D), 0.0);
  lse.assign(static_cast<std::size_t>(s.B * s.Hq * s.Nq), -1e12);
  for (std::int64_t b = 0; b < s.B; ++b)
    for (std::int64_t h = 0; h < s.Hq; ++h) {
      const std::int64_t gk = h / (s.Hq / s.Hkv);
      for (std::int64_t i = 0; i < s.Nq; ++i) {
        const std::size_t row = static_cast<std::size_t>((b * s.Hq + h) * s.Nq + i);
        std::vector<std::pair<std::int64_t, double>> sc;
        for (std::int64_t e = off[i]; e < off[i + 1]; ++e) {
          const std::int64_t j = col[e];
          if (causal && j > i + (s.Nk - s.Nq)) continue;
          double dot = 0;
          for (std::int64_t d = 0; d < s.D; ++d) {
            dot += double(q[row * s.D + d]) *
                   double(k[static_cast<std::size_t>(((b * s.Hkv + gk) * s.Nk + j) * s.D + d)]);
          }
          sc.push_back({j, dot * scale});
        }
        if (sc.empty()) continue;
        double mx = -std::numeric_limits<double>::infinity();
        for (const auto& x : sc) mx = std::max(mx, x.second);
        double den = 0;
        for (const auto& x : sc) den += std::exp(x.second - mx);
        lse[row] = mx + std::log(den);
        for (const auto& x : sc) {
          const double p = std::exp(x.second - mx) / den;
          for (std::int64_t d = 0; d < s.D; ++d) {
            out[row * s.D + d] +=
                p * double(v[static_cast<std::size_t>(((b * s.Hkv + gk) * s.Nk + x.first) * s.D + d)]);
          }
        }
      }
    }
}

struct Inputs {
  std::vector<float> q, k, v;
  Tensor qt, kt, vt;
};

Inputs make_inputs(const Dims& s, std::uint64_t seed, DType dt = DType::f32) {
  Inputs in;
  const Shape qs{s.B, s.Hq, s.Nq, s.D}, kvs{s.B, s.Hkv, s.Nk, s.D};
  in.qt = Tensor::from_vector(test::random_floats(static_cast<std::size_t>(s.B * s.Hq * s.Nq * s.D), -2.f, 2.f, seed), qs).astype(dt);
  in.kt = Tensor::from_vector(test::random_floats(static_cast<std::size_t>(s.B * s.Hkv * s.Nk * s.D), -2.f, 2.f, seed + 1), kvs).astype(dt);
  in.vt = Tensor::from_vector(test::random_floats(static_cast<std::size_t>(s.B * s.Hkv * s.Nk * s.D), -3.f, 3.f, seed + 2), kvs).astype(dt);
  in.q = in.qt.astype(DType::f32).to_vector<float>();
  in.k = in.kt.astype(DType::f32).to_vector<float>();
  in.v = in.vt.astype(DType::f32).to_vector<float>();
  return in;
}

TEST(AttentionCsr, CompleteRowsEqualDenseAttention) {
  const Dims cases[] = {{1, 1, 1, 1, 1, 8},   {2, 2, 2, 7, 13, 16}, {1, 4, 2, 33, 65, 64},
                        {2, 3, 1, 20, 20, 5}, {1, 2, 2, 70, 70, 128}};
  std::uint64_t seed = 21;
  for (const Dims& s : cases) {
    for (const bool causal : {false, true}) {
      SCOPED_TRACE(testing::Message() << "Nq=" << s.Nq << " Nk=" << s.Nk << " D=" << s.D
                                      << " causal=" << causal);
      const Inputs in = make_inputs(s, seed += 3);
      AttentionOptions opt;
      opt.causal = causal;
      const auto dense = attention(in.qt, in.kt, in.vt, opt);
      const auto csr = attention_csr(in.qt, in.kt, in.vt, complete_csr(s.Nq, s.Nk), opt);
      const auto od = dense.out.to_vector<float>(), oc = csr.out.to_vector<float>();
      const auto ld = dense.lse.to_vector<float>(), lc = csr.lse.to_vector<float>();
      for (std::size_t e = 0; e < od.size(); ++e) {
        ASSERT_NEAR(oc[e], od[e], 2e-5 * (1 + std::fabs(od[e]))) << "out element " << e;
      }
      for (std::size_t e = 0; e < ld.size(); ++e) {
        if (ld[e] == kLogZero) {
          ASSERT_EQ(lc[e], kLogZero) << "row " << e;
        } else {
          ASSERT_NEAR(lc[e], ld[e], 2e-5 * (1 + std::fabs(ld[e]))) << "lse row " << e;
        }
      }
    }
  }
}

void check_sparse(const Dims& s, float density, bool causal, DType dt, std::uint64_t seed) {
  SCOPED_TRACE(testing::Message() << dtype_name(dt) << " Nq=" << s.Nq << " Nk=" << s.Nk
                                  << " D=" << s.D << " density=" << density
                                  << " causal=" << causal);
  const Inputs in = make_inputs(s, seed, dt);
  const Csr g = random_csr(s.Nq, s.Nk, density, seed + 7, s.Nq / 2);
  AttentionOptions opt;
  opt.causal = causal;
  const auto got = attention_csr(in.qt, in.kt, in.vt, g, opt);
  ASSERT_EQ(got.out.dtype(), dt);
  std::vector<double> want_o, want_l;
  csr_ref(s, in.q, in.k, in.v, g, causal, 1.0 / std::sqrt(double(s.D)), want_o, want_l);
  const auto o = got.out.astype(DType::f32).to_vector<float>();
  const auto l = got.lse.to_vector<float>();
  double max_ref = 0;
  for (double x : want_o) max_ref = std::max(max_ref, std::fabs(x));
  const double tol = dt == DType::f32 ? 1e-5 : 1e-2;
  for (std::size_t e = 0; e < o.size(); ++e) {
    ASSERT_LE(std::fabs(o[e] - want_o[e]), tol * std::max(max_ref, 1e-30)) << "out element " << e;
  }
  for (std::size_t e = 0; e < l.size(); ++e) {
    if (want_l[e] == -1e12) {
      ASSERT_EQ(l[e], kLogZero) << "row " << e << " sees no key";
      for (std::int64_t d = 0; d < s.D; ++d) ASSERT_EQ(o[e * s.D + d], 0.0f);
    } else {
      ASSERT_NEAR(l[e], want_l[e], 1e-5 * std::max(1.0, std::fabs(want_l[e]))) << "lse row " << e;
    }
  }
}

TEST(AttentionCsr, SparseRowsMatchFloat64Reference) {
  std::uint64_t seed = 71;
  check_sparse({1, 1, 1, 1, 1, 4}, 1.0f, false, DType::f32, seed += 11);
  check_sparse({2, 2, 2, 17, 23, 16}, 0.3f, false, DType::f32, seed += 11);
  check_sparse({1, 4, 2, 40, 40, 64}, 0.2f, true, DType::f32, seed += 11);
  check_sparse({2, 3, 3, 9, 50, 7}, 0.5f, false, DType::f32, seed += 11);
  check_sparse({1, 2, 1, 30, 12, 128}, 0.4f, true, DType::f32, seed += 11);  // Nq > Nk causal
  check_sparse({1, 1, 1, 25, 25, 8}, 0.0f, false, DType::f32, seed += 11);  // no entries
  for (const DType dt : {DType::bf16, DType::f16}) {
    check_sparse({2, 2, 1, 20, 31, 64}, 0.3f, false, dt, seed += 11);
    check_sparse({1, 2, 2, 33, 33, 48}, 0.5f, true, dt, seed += 11);
  }
}

TEST(AttentionCsr, BadGraphIsNamed) {
  const Dims s{1, 2, 2, 5, 6, 8};
  const Inputs in = make_inputs(s, 5);
  test::expect_error([&] { attention_csr(in.qt, in.kt, in.vt, complete_csr(6, 6)); },
                     ErrorCode::shape_mismatch, "graph must be Nq x Nk = 5 x 6");
  Csr bad = complete_csr(5, 6);
  bad.row_offsets = Tensor::zeros({6}, DType::i32);
  test::expect_error([&] { attention_csr(in.qt, in.kt, in.vt, bad); }, ErrorCode::dtype_mismatch,
                     "graph.row_offsets");
  AttentionOptions unfused;
  unfused.path = AttentionPath::unfused;
  test::expect_error([&] { attention_csr(in.qt, in.kt, in.vt, complete_csr(5, 6), unfused); },
                     ErrorCode::not_supported, "fused");
  // The unfused path is CUDA only.
  test::expect_error([&] { attention(in.qt, in.kt, in.vt, unfused); }, ErrorCode::not_supported,
                     "CUDA devices only");
}

}  // namespace
}  // namespace mpe
