// The shared host/device log-space math (kernels/common), checked against float64.
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "common/graph_mp.hpp"
#include "common/logspace.hpp"

namespace mpe::kernels {
namespace {

TEST(LogSpace, AccumulatorMatchesFloat64InAnyPushOrder) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-30.f, 30.f);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> v(1 + trial % 50);
    for (auto& e : v) e = d(rng);
    double mx = -1e300;
    for (float e : v) mx = std::max(mx, double(e));
    double s = 0;
    for (float e : v) s += std::exp(double(e) - mx);
    const double want = mx + std::log(s);
    LseAcc fwd;
    for (float e : v) fwd.push(e);
    LseAcc a, b;  // split in two halves and merged, as the GPU's shuffles do
    for (std::size_t k = 0; k < v.size(); ++k) (k % 2 ? a : b).push(v[k]);
    a.merge(b.m, b.s);
    LseAcc chunked;  // chunks of 4 padded with kLogZero, as both kernels feed it
    for (std::size_t k = 0; k < v.size(); k += 4) {
      float c[4];
      for (std::size_t q = 0; q < 4; ++q) c[q] = k + q < v.size() ? v[k + q] : kLogZero;
      chunked.push_chunk(c);
    }
    EXPECT_NEAR(chunked.result(), want, 1e-5 * std::max(1.0, std::fabs(want)));
    EXPECT_NEAR(fwd.result(), want, 1e-5 * std::max(1.0, std::fabs(want)));
    EXPECT_NEAR(a.result(), want, 1e-5 * std::max(1.0, std::fabs(want)));
  }
}

TEST(LogSpace, Float64ExpAndLogMatchLibmToTwoUlps) {
  // The BP kernels' double messages rely on these to ~1e-16 (agreement with libDAI to 1e-9).
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> ex(-708.0, 709.0), lg(-700.0, 700.0);
  for (int i = 0; i < 200000; ++i) {
    const double x = ex(rng);
    EXPECT_NEAR(lse_exp(x), std::exp(x), 4.5e-16 * std::exp(x)) << x;
    const double y = std::exp(lg(rng));
    EXPECT_NEAR(lse_log(y), std::log(y), 4.5e-16 * std::max(1.0, std::fabs(std::log(y)))) << y;
    const double z = 1.0 + std::exp(-std::fabs(lg(rng)) / 20);  // the 1 + w of a softplus
    EXPECT_NEAR(lse_log(z), std::log(z), 2.3e-16) << z;
  }
  EXPECT_EQ(lse_exp(0.0), 1.0);
  EXPECT_EQ(lse_log(1.0), 0.0);
  EXPECT_NEAR(lse_exp(-1e12), 0.0, 1e-300);  // clamped: a zero-probability sentinel stays ~0
}

TEST(LogSpace, ZeroProbabilityRules) {
  LseAcc acc;
  EXPECT_EQ(acc.result(), kLogZero);
  acc.push(kLogZero);
  acc.push(kLogZero * 0.6f);
  acc.push(NAN);
  EXPECT_EQ(acc.result(), kLogZero);
  acc.push(-3.0f);
  EXPECT_FLOAT_EQ(acc.result(), -3.0f);
  const float masked[3] = {kLogZero, kLogZero * 0.7f, NAN};
  LseAcc none;
  none.push_chunk(masked);
  EXPECT_EQ(none.result(), kLogZero);
  const float one_live[3] = {kLogZero, 2.0f, kLogZero};
  none.push_chunk(one_live);
  EXPECT_FLOAT_EQ(none.result(), 2.0f);
  LseAcc empty;
  acc.merge(empty.m, empty.s);
  EXPECT_FLOAT_EQ(acc.result(), -3.0f);
  empty.merge(acc.m, acc.s);
  EXPECT_FLOAT_EQ(empty.result(), -3.0f);
  EXPECT_EQ(safe_log(0.0f), kLogZero);
  EXPECT_EQ(safe_log(-1.0f), kLogZero);
  EXPECT_FLOAT_EQ(safe_log(1e-40f), std::log(1e-30f));
  EXPECT_FLOAT_EQ(safe_log(0.5f), std::log(0.5f));
}

TEST(LogSpace, AggregationRules) {
  EXPECT_EQ(mp_finish(MpAgg::max, mp_init(MpAgg::max), 0), 0.0f);
  EXPECT_EQ(mp_finish(MpAgg::min, mp_init(MpAgg::min), 0), 0.0f);
  EXPECT_EQ(mp_finish(MpAgg::mean, {6.0f, 0.0f}, 3), 2.0f);
  EXPECT_EQ(mp_step(MpAgg::max, {-1.0f, 0.0f}, 2.0f).a, 2.0f);
  EXPECT_EQ(mp_step(MpAgg::min, {-1.0f, 0.0f}, 2.0f).a, -1.0f);
  EXPECT_EQ(mp_step(MpAgg::sum, {-1.0f, 0.0f}, 2.0f).a, 1.0f);
}

}  // namespace
}  // namespace mpe::kernels
