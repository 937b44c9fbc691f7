// Attention forward (CPU) against a plain float64 reference: random shapes incl. sequence
// length 1, lengths that are not multiples of the tiles, causal masks, padding masks, GQA.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>
#include <mpe/attention.hpp>
#include <mpe/ops.hpp>

#include "support/errors.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

struct Shape4 {
  std::int64_t B, Hq, Hkv, Nq, Nk, D;
  bool causal;
  bool padded;  // random per-key padding mask (some batches fully padded)
};

// Two-pass softmax in float64, the whole score row at once.
void attention_ref(const Shape4& s, const std::vector<float>& q, const std::vector<float>& k,
                   const std::vector<float>& v, const std::vector<std::int32_t>& mask, double scale,
                   std::vector<double>& out, std::vector<double>& lse) {
  out.assign(static_cast<std::size_t>(s.B * s.Hq * s.Nq * s.D), 0.0);
  lse.assign(static_cast<std::size_t>(s.B * s.Hq * s.Nq), -1e12);
  std::vector<double> sc(static_cast<std::size_t>(s.Nk));
  for (std::int64_t b = 0; b < s.B; ++b)
    for (std::int64_t h = 0; h < s.Hq; ++h) {
      const std::int64_t g = h / (s.Hq / s.Hkv);
      for (std::int64_t i = 0; i < s.Nq; ++i) {
        const float* qr = &q[static_cast<std::size_t>(((b * s.Hq + h) * s.Nq + i) * s.D)];
        double mx = -std::numeric_limits<double>::infinity();
        std::vector<bool> vis(static_cast<std::size_t>(s.Nk));
        for (std::int64_t j = 0; j < s.Nk; ++j) {
          vis[j] =
              (mask.empty() || mask[b * s.Nk + j] != 0) && (!s.causal || j <= i + (s.Nk - s.Nq));
          const float* kr = &k[static_cast<std::size_t>(((b * s.Hkv + g) * s.Nk + j) * s.D)];
          double dot = 0;
          for (std::int64_t d = 0; d < s.D; ++d) dot += double(qr[d]) * double(kr[d]);
          sc[j] = dot * scale;
          if (vis[j]) mx = std::max(mx, sc[j]);
        }
        double den = 0;
        for (std::int64_t j = 0; j < s.Nk; ++j)
          if (vis[j]) den += std::exp(sc[j] - mx);
        const std::size_t row = static_cast<std::size_t>((b * s.Hq + h) * s.Nq + i);
        if (den == 0) continue;
        lse[row] = mx + std::log(den);
        for (std::int64_t j = 0; j < s.Nk; ++j) {
          if (!vis[j]) continue;
          const double p = std::exp(sc[j] - mx) / den;
          const float* vr = &v[static_cast<std::size_t>(((b * s.Hkv + g) * s.Nk + j) * s.D)];
          for (std::int64_t d = 0; d < s.D; ++d) out[row * s.D + d] += p * double(vr[d]);
        }
      }
    }
}

// Per-row log-sum-exp against the float64 reference (kLogZero where a row sees no key).
void expect_lse_matches(const std::vector<float>& lse, const std::vector<double>& want_lse) {
  ASSERT_EQ(lse.size(), want_lse.size());
  for (std::size_t e = 0; e < lse.size(); ++e) {
    if (want_lse[e] == -1e12) {
      ASSERT_EQ(lse[e], kLogZero) << "row " << e << " sees no key";
    } else {
      ASSERT_NEAR(lse[e], want_lse[e], 1e-5 * std::max(1.0, std::fabs(want_lse[e])))
          << "lse row " << e;
    }
  }
}

void check(const Shape4& s, std::uint64_t seed, float scale = 0.0f) {
  SCOPED_TRACE(testing::Message() << "B=" << s.B << " Hq=" << s.Hq << " Hkv=" << s.Hkv
                                  << " Nq=" << s.Nq << " Nk=" << s.Nk << " D=" << s.D
                                  << " causal=" << s.causal << " padded=" << s.padded);
  const auto q =
      test::random_floats(static_cast<std::size_t>(s.B * s.Hq * s.Nq * s.D), -2.f, 2.f, seed);
  const auto k =
      test::random_floats(static_cast<std::size_t>(s.B * s.Hkv * s.Nk * s.D), -2.f, 2.f, seed + 1);
  const auto v =
      test::random_floats(static_cast<std::size_t>(s.B * s.Hkv * s.Nk * s.D), -3.f, 3.f, seed + 2);
  std::vector<std::int32_t> mask;
  Tensor mask_t;
  if (s.padded) {
    const auto coin = test::random_floats(static_cast<std::size_t>(s.B * s.Nk), 0.f, 1.f, seed + 3);
    mask.resize(coin.size());
    for (std::size_t e = 0; e < coin.size(); ++e) mask[e] = coin[e] < 0.7f ? 1 : 0;
    if (s.B > 1) {  // the last batch entry has every key padded
      for (std::int64_t j = 0; j < s.Nk; ++j) mask[(s.B - 1) * s.Nk + j] = 0;
    }
    mask_t = Tensor::from_vector(mask, {s.B, s.Nk});
  }
  AttentionOptions opt;
  opt.causal = s.causal;
  opt.scale = scale;
  const auto got = attention(Tensor::from_vector(q, {s.B, s.Hq, s.Nq, s.D}),
                             Tensor::from_vector(k, {s.B, s.Hkv, s.Nk, s.D}),
                             Tensor::from_vector(v, {s.B, s.Hkv, s.Nk, s.D}), opt, mask_t);
  std::vector<double> want_o, want_lse;
  const double sc = scale != 0.0f ? scale : 1.0 / std::sqrt(double(s.D));
  attention_ref(s, q, k, v, mask, sc, want_o, want_lse);
  const auto o = got.out.to_vector<float>();
  const auto lse = got.lse.to_vector<float>();
  ASSERT_EQ(o.size(), want_o.size());
  ASSERT_EQ(lse.size(), want_lse.size());
  double max_ref = 0;
  for (double x : want_o) max_ref = std::max(max_ref, std::fabs(x));
  for (std::size_t e = 0; e < o.size(); ++e) {
    ASSERT_FALSE(std::isnan(o[e])) << "out element " << e;
    ASSERT_LE(std::fabs(o[e] - want_o[e]), 1e-5 * std::max(max_ref, 1e-30)) << "out element " << e;
  }
  expect_lse_matches(lse, want_lse);
}

TEST(Attention, MatchesFloat64Reference) {
  const Shape4 cases[] = {
      {1, 1, 1, 1, 1, 1, false, false},      {1, 1, 1, 1, 1, 64, false, false},
      {2, 2, 2, 1, 37, 64, false, false},    {1, 3, 3, 37, 1, 16, false, false},
      {2, 2, 1, 33, 65, 64, false, false},   {1, 2, 2, 64, 64, 128, false, false},
      {1, 1, 1, 100, 130, 48, false, false}, {1, 2, 2, 97, 97, 7, false, false},
      {3, 1, 1, 31, 200, 3, false, false},   {1, 1, 1, 9, 9, 200, false, false},
      {1, 4, 2, 70, 70, 32, false, false},   {2, 8, 1, 5, 129, 64, false, false},
      // many (batch, kv head) pairs: one task per pair, each packing its own K/V
      {3, 8, 4, 130, 130, 32, true, true},   {2, 16, 16, 20, 300, 64, false, false},
  };
  std::uint64_t seed = 11;
  for (const auto& c : cases) check(c, seed += 5);
}

TEST(Attention, CausalMask) {
  const Shape4 cases[] = {
      {1, 1, 1, 1, 1, 8, true, false},       {2, 2, 2, 65, 65, 64, true, false},
      {1, 4, 2, 100, 100, 32, true, false},  {1, 1, 1, 7, 150, 16, true, false},  // decoding
      {1, 2, 1, 40, 20, 24, true, false},  // more queries than keys: first rows see nothing
      {1, 1, 1, 129, 129, 128, true, false},
  };
  std::uint64_t seed = 101;
  for (const auto& c : cases) check(c, seed += 5);
}

TEST(Attention, PaddingMaskAndGroupedQuery) {
  const Shape4 cases[] = {
      {3, 4, 2, 20, 70, 16, false, true},
      {2, 6, 3, 33, 33, 64, true, true},
      {4, 2, 1, 1, 9, 8, false, true},
      {2, 2, 2, 65, 130, 40, false, true},
  };
  std::uint64_t seed = 201;
  for (const auto& c : cases) check(c, seed += 5);
}

TEST(Attention, ExplicitScaleAndEmptyKeys) {
  check({2, 2, 1, 17, 40, 16, false, false}, 301, 0.5f);
  check({1, 1, 1, 17, 40, 16, true, false}, 302, -0.25f);
  const auto r =
      attention(Tensor::zeros({1, 2, 3, 4}, DType::f32), Tensor::zeros({1, 1, 0, 4}, DType::f32),
                Tensor::zeros({1, 1, 0, 4}, DType::f32));
  for (float x : r.out.to_vector<float>()) EXPECT_EQ(x, 0.0f);
  for (float x : r.lse.to_vector<float>()) EXPECT_EQ(x, kLogZero);
}

TEST(Attention, LseCombinesSplitKeys) {
  // Attention over keys [0, 60) equals the lse-weighted mix of attention over [0, 25) and
  // [25, 60): the per-row lse is what block combination needs.
  const std::int64_t Nq = 13, D = 8, N1 = 25, N2 = 35;
  const auto q = test::random_floats(Nq * D, -1.f, 1.f, 5);
  const auto k = test::random_floats((N1 + N2) * D, -1.f, 1.f, 6);
  const auto v = test::random_floats((N1 + N2) * D, -1.f, 1.f, 7);
  const Tensor qt = Tensor::from_vector(q, {1, 1, Nq, D});
  auto part = [&](std::int64_t j0, std::int64_t n) {
    std::vector<float> ks(k.begin() + j0 * D, k.begin() + (j0 + n) * D);
    std::vector<float> vs(v.begin() + j0 * D, v.begin() + (j0 + n) * D);
    return attention(qt, Tensor::from_vector(ks, {1, 1, n, D}),
                     Tensor::from_vector(vs, {1, 1, n, D}));
  };
  const auto all = part(0, N1 + N2), a = part(0, N1), b = part(N1, N2);
  const auto oa = a.out.to_vector<float>(), ob = b.out.to_vector<float>(),
             o = all.out.to_vector<float>();
  const auto la = a.lse.to_vector<float>(), lb = b.lse.to_vector<float>(),
             l = all.lse.to_vector<float>();
  for (std::int64_t i = 0; i < Nq; ++i) {
    const double m = std::max(la[i], lb[i]);
    const double wa = std::exp(la[i] - m), wb = std::exp(lb[i] - m);
    EXPECT_NEAR(l[i], m + std::log(wa + wb), 1e-5);
    for (std::int64_t d = 0; d < D; ++d) {
      EXPECT_NEAR(o[i * D + d], (wa * oa[i * D + d] + wb * ob[i * D + d]) / (wa + wb), 1e-5);
    }
  }
}

// bfloat16 / float16 storage: the reference runs in float64 on the values as stored (the inputs
// rounded to 16 bits); the kernel's error is its float32 arithmetic plus O's final rounding.
void check_half(const Shape4& s, DType dt, std::uint64_t seed) {
  SCOPED_TRACE(testing::Message() << dtype_name(dt) << " B=" << s.B << " Hq=" << s.Hq
                                  << " Hkv=" << s.Hkv << " Nq=" << s.Nq << " Nk=" << s.Nk
                                  << " D=" << s.D << " causal=" << s.causal
                                  << " padded=" << s.padded);
  const Shape qs{s.B, s.Hq, s.Nq, s.D}, kvs{s.B, s.Hkv, s.Nk, s.D};
  const Tensor q = Tensor::from_vector(
      test::random_floats(static_cast<std::size_t>(s.B * s.Hq * s.Nq * s.D), -2.f, 2.f, seed), qs)
                       .astype(dt);
  const Tensor k = Tensor::from_vector(test::random_floats(static_cast<std::size_t>(
                                                               s.B * s.Hkv * s.Nk * s.D),
                                                           -2.f, 2.f, seed + 1),
                                       kvs)
                       .astype(dt);
  const Tensor v = Tensor::from_vector(test::random_floats(static_cast<std::size_t>(
                                                               s.B * s.Hkv * s.Nk * s.D),
                                                           -3.f, 3.f, seed + 2),
                                       kvs)
                       .astype(dt);
  std::vector<std::int32_t> mask;
  Tensor mask_t;
  if (s.padded) {
    const auto coin = test::random_floats(static_cast<std::size_t>(s.B * s.Nk), 0.f, 1.f, seed + 3);
    mask.resize(coin.size());
    for (std::size_t e = 0; e < coin.size(); ++e) mask[e] = coin[e] < 0.7f ? 1 : 0;
    mask_t = Tensor::from_vector(mask, {s.B, s.Nk});
  }
  AttentionOptions opt;
  opt.causal = s.causal;
  const auto got = attention(q, k, v, opt, mask_t);
  ASSERT_EQ(got.out.dtype(), dt);
  ASSERT_EQ(got.lse.dtype(), DType::f32);
  std::vector<double> want_o, want_lse;
  attention_ref(s, q.astype(DType::f32).to_vector<float>(), k.astype(DType::f32).to_vector<float>(),
                v.astype(DType::f32).to_vector<float>(), mask, 1.0 / std::sqrt(double(s.D)),
                want_o, want_lse);
  const auto o = got.out.astype(DType::f32).to_vector<float>();
  const auto lse = got.lse.to_vector<float>();
  double max_ref = 0;
  for (double x : want_o) max_ref = std::max(max_ref, std::fabs(x));
  // One rounding of O to the storage type: half an ulp is 2^-9 (bf16) or 2^-12 (f16) relative.
  const double ulp = dt == DType::bf16 ? 1.0 / 256 : 1.0 / 2048;
  for (std::size_t e = 0; e < o.size(); ++e) {
    ASSERT_FALSE(std::isnan(o[e])) << "out element " << e;
    const double err = std::fabs(o[e] - want_o[e]);
    ASSERT_LE(err, 1e-2 * std::max(max_ref, 1e-30)) << "out element " << e;
    ASSERT_LE(err, ulp * std::fabs(want_o[e]) + 1e-5 * max_ref) << "out element " << e;
  }
  expect_lse_matches(lse, want_lse);
}

TEST(Attention, HalfStorageMatchesFloat64Reference) {
  const Shape4 cases[] = {
      {1, 1, 1, 1, 1, 64, false, false},    {2, 2, 2, 1, 37, 64, false, false},
      {1, 3, 3, 37, 1, 16, false, false},   {2, 2, 1, 33, 65, 64, false, false},
      {1, 2, 2, 64, 64, 128, false, false}, {1, 1, 1, 100, 130, 48, true, false},
      {1, 2, 2, 97, 97, 7, true, false},    {3, 4, 2, 20, 70, 16, false, true},
      {1, 2, 1, 40, 20, 24, true, false},   {2, 2, 2, 129, 129, 128, true, true},
      {3, 8, 4, 130, 130, 32, true, true},  // many (batch, kv head) pairs: one task per pair
  };
  std::uint64_t seed = 401;
  for (const DType dt : {DType::bf16, DType::f16}) {
    for (const auto& c : cases) check_half(c, dt, seed += 5);
  }
}

TEST(Attention, HalfStorageNeedsOneDtype) {
  const Tensor q = Tensor::zeros({1, 2, 3, 8}, DType::bf16);
  const Tensor kf = Tensor::zeros({1, 2, 3, 8}, DType::f16);
  test::expect_error([&] { attention(q, kf, kf); }, ErrorCode::dtype_mismatch,
                     "k must have q's dtype bfloat16, got float16");
  Tensor out = Tensor::zeros({1, 2, 3, 8}, DType::f32);
  Tensor lse = Tensor::zeros({1, 2, 3}, DType::f32);
  test::expect_error([&] { attention(q, q, q, Tensor(), {}, out, lse); },
                     ErrorCode::dtype_mismatch, "out must have q's dtype bfloat16");
  Tensor out_ok = Tensor::zeros({1, 2, 3, 8}, DType::bf16);
  Tensor lse_bf = Tensor::zeros({1, 2, 3}, DType::bf16);
  test::expect_error([&] { attention(q, q, q, Tensor(), {}, out_ok, lse_bf); },
                     ErrorCode::dtype_mismatch, "lse must be float32");
}

TEST(Attention, FlopCount) {
  EXPECT_DOUBLE_EQ(attention_flops(2, 3, 5, 7, 11, false), 4.0 * 2 * 3 * 5 * 7 * 11);
  EXPECT_DOUBLE_EQ(attention_flops(2, 3, 5, 7, 11, true), 2.0 * 2 * 3 * 5 * 7 * 11);
}

TEST(Attention, BadInputNamesTheArgument) {
  const Tensor q = Tensor::zeros({2, 4, 5, 8}, DType::f32);
  const Tensor k = Tensor::zeros({2, 2, 6, 8}, DType::f32);
  const Tensor v = Tensor::zeros({2, 2, 6, 8}, DType::f32);
  using test::expect_error;
  expect_error(
      [&] {
        attention(Tensor::zeros({2, 4, 5}, DType::f32), k, v);
      },
      ErrorCode::shape_mismatch, "q must be [B, Hq, Nq, D]");
  expect_error(
      [&] {
        attention(Tensor::zeros({2, 4, 5, 8}, DType::f64), k, v);
      },
      ErrorCode::dtype_mismatch, "q must be float32");
  expect_error(
      [&] {
        attention(q, Tensor::zeros({2, 2, 6, 7}, DType::f32), v);
      },
      ErrorCode::shape_mismatch, "k must be");
  expect_error(
      [&] {
        attention(q, k, Tensor::zeros({2, 2, 5, 8}, DType::f32));
      },
      ErrorCode::shape_mismatch, "v must be");
  expect_error(
      [&] {
        attention(q, Tensor::zeros({2, 3, 6, 8}, DType::f32),
                  Tensor::zeros({2, 3, 6, 8}, DType::f32));
      },
      ErrorCode::shape_mismatch, "must be >= 1 and divide q heads");
  expect_error(
      [&] {
        attention(q, k, v, {}, Tensor::zeros({2, 5}, DType::i32));
      },
      ErrorCode::shape_mismatch, "key_mask must be [B, Nk]");
  expect_error(
      [&] {
        attention(q, k, v, {}, Tensor::zeros({2, 6}, DType::f32));
      },
      ErrorCode::dtype_mismatch, "key_mask must be int32");
  AttentionOptions bad;
  bad.scale = std::numeric_limits<float>::infinity();
  expect_error([&] { attention(q, k, v, bad); }, ErrorCode::invalid_argument, "scale");
  Tensor out = Tensor::zeros({2, 4, 5, 7}, DType::f32);
  Tensor lse = Tensor::zeros({2, 4, 5}, DType::f32);
  expect_error([&] { attention(q, k, v, Tensor(), {}, out, lse); }, ErrorCode::shape_mismatch,
               "out must be");
  Tensor out_ok = Tensor::zeros({2, 4, 5, 8}, DType::f32);
  Tensor lse_bad = Tensor::zeros({2, 4, 6}, DType::f32);
  expect_error([&] { attention(q, k, v, Tensor(), {}, out_ok, lse_bad); },
               ErrorCode::shape_mismatch, "lse must be");
  // Outputs untouched on error.
  for (float x : out_ok.to_vector<float>()) ASSERT_EQ(x, 0.0f);
  // lse may be left undefined: only O is written.
  Tensor no_lse;
  attention(q, k, v, Tensor(), {}, out_ok, no_lse);
  EXPECT_FALSE(no_lse.defined());
}

}  // namespace
}  // namespace mpe
