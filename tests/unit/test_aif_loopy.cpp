// Loopy-θ baselines bp, vbp, rm: the golden fixtures of aif-mp-baselines.md §8 (tolerance
// 1e-5), including the ones that tell loopy θ from fixed θ (F4, F6, V2, V4, R4, r_x vectors).
#include <vector>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>

#include "support/errors.hpp"

namespace mpe::aif {
namespace {

Tensor t(const std::vector<float>& v, const Shape& s) { return Tensor::from_vector(v, s); }

// T[n,o,θ,u] = 1 iff n = idx[(o·A + u)·K + θ].
std::vector<float> from_idx(const std::vector<int>& idx, int S, int K, int A) {
  std::vector<float> T(static_cast<std::size_t>(S * S * K * A), 0.0f);
  for (int o = 0; o < S; ++o)
    for (int u = 0; u < A; ++u)
      for (int th = 0; th < K; ++th) {
        const int n = idx[static_cast<std::size_t>((o * A + u) * K + th)];
        T[static_cast<std::size_t>(((n * S + o) * K + th) * A + u)] = 1.0f;
      }
  return T;
}

const std::vector<float> kB = {0.9f, 0.2f, 0.3f, 0.8f, 0.1f, 0.8f, 0.7f, 0.2f};
const std::vector<int> kIdx = {0, 1, 1, 0, 1, 0, 0, 1};

Model p1(bool theta_goal, std::vector<float> pu = {0.55f, 0.45f}) {
  const Tensor T = t(from_idx(kIdx, 2, 2, 2), {2, 2, 2, 2}), B = t(kB, {1, 2, 2, 2});
  if (theta_goal) return Model::with_theta_goal(T, B, t(pu, {2}), t({0.1f, 0.8f, 0.9f, 0.2f}, {2, 2}));
  return Model::with_terminal_goal(T, B, t(pu, {2}), t({0.1f, 0.9f}, {2}));
}

Model p2() {
  return Model::with_theta_goal(
      t({0.9f, 0.2f, 0.4f, 0.7f, 0.3f, 0.8f, 0.6f, 0.1f, 0.1f, 0.8f, 0.6f, 0.3f, 0.7f, 0.2f, 0.4f, 0.9f},
        {2, 2, 2, 2}),
      t(kB, {1, 2, 2, 2}), t({0.6f, 0.4f}, {2}), t({0.15f, 0.75f, 0.85f, 0.25f}, {2, 2}));
}

PlanRequest req(Method m, std::vector<float> q0, std::vector<float> qt, int H = 2, int I = 2) {
  PlanRequest r;
  r.q0 = std::move(q0);
  r.q_theta = std::move(qt);
  r.horizon = H;
  r.iterations = I;
  r.damping = 0.5f;
  r.method = m;
  r.theta = ThetaMode::loopy;
  return r;
}

void expect_dist(const Model& m, const PlanRequest& r, const std::vector<float>& want) {
  const Plan p = plan(m, {r}, Device::cpu())[0];
  ASSERT_EQ(p.action_dist.size(), want.size());
  for (std::size_t u = 0; u < want.size(); ++u) EXPECT_NEAR(p.action_dist[u], want[u], 1e-5) << u;
}

TEST(AifLoopy, VbpFixtures) {
  expect_dist(p1(false), req(Method::vbp, {0.8f, 0.2f}, {0.6f, 0.4f}), {0.5723877549f, 0.4276122451f});
  expect_dist(p1(true), req(Method::vbp, {0.8f, 0.2f}, {0.6f, 0.4f}), {0.5651110411f, 0.4348889887f});
  expect_dist(p1(false, {1.0f, 0.0f}), req(Method::vbp, {0.8f, 0.2f}, {0.6f, 0.4f}), {1.0f, 0.0f});
  expect_dist(p2(), req(Method::vbp, {0.65f, 0.35f}, {0.55f, 0.45f}), {0.64047801f, 0.35952204f});
}

TEST(AifLoopy, RmFixturesWithTheirChannels) {
  const PlanRequest r = req(Method::rm, {0.8f, 0.2f}, {0.6f, 0.4f});
  const Plan a = plan(p1(false), {r}, Device::cpu())[0];
  EXPECT_NEAR(a.action_dist[0], 0.5735483766f, 1e-5);
  const std::vector<float> rx1 = {-0.6076425314f, -0.8117039800f, -0.7866522670f, -0.5871681571f,
                                  -0.8117038012f, -0.6076425314f, -0.5871682167f, -0.7866523266f,
                                  -1.2389082909f, -1.5413109064f, -0.3420683146f, -0.2409259677f,
                                  -1.5413109064f, -1.2389080524f, -0.2409260720f, -0.3420683742f};
  const auto got1 = a.log_r_x.to_vector<float>();
  ASSERT_EQ(got1.size(), rx1.size());
  for (std::size_t k = 0; k < rx1.size(); ++k) EXPECT_NEAR(got1[k], rx1[k], 1e-5) << "r_x " << k;
  const Plan b = plan(p1(true), {r}, Device::cpu())[0];
  EXPECT_NEAR(b.action_dist[0], 0.5526032448f, 1e-5);
  const std::vector<float> rx2 = {-0.7956663370f, -0.5368347764f, -0.6001678705f, -0.8785029054f,
                                  -0.5368347764f, -0.7956663370f, -0.8785029054f, -0.6001678705f,
                                  -0.7936215401f, -0.5222671032f, -0.6018525362f, -0.8993703127f,
                                  -0.5222671628f, -0.7936215401f, -0.8993701339f, -0.6018525362f};
  const auto got2 = b.log_r_x.to_vector<float>();
  for (std::size_t k = 0; k < rx2.size(); ++k) EXPECT_NEAR(got2[k], rx2[k], 1e-5) << "r_x " << k;
  expect_dist(p1(false, {1.0f, 0.0f}), r, {1.0f, 0.0f});
  expect_dist(p2(), req(Method::rm, {0.65f, 0.35f}, {0.55f, 0.45f}), {0.63885731f, 0.36114272f});
}

TEST(AifLoopy, BpFixtures) {
  const Tensor T = t(from_idx(kIdx, 2, 2, 2), {2, 2, 2, 2});
  const Tensor B = t({0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, {1, 2, 2, 2});
  const Model f1 = Model::with_terminal_goal(T, B, t({0.5f, 0.5f}, {2}), t({0.01f, 0.99f}, {2}));
  expect_dist(f1, req(Method::bp, {1, 0}, {0.9f, 0.1f}, 1, 3), {0.10800002f, 0.892f});
  const Model f2 = Model::with_theta_goal(T, B, t({0.5f, 0.5f}, {2}), t({0.01f, 0.9f, 0.99f, 0.1f}, {2, 2}));
  expect_dist(f2, req(Method::bp, {1, 0}, {0.9f, 0.1f}, 1, 3), {0.17920004f, 0.82079995f});
  // F4: S=8, K=2, A=4, n = (o + θ + u) mod 8 — moves with loopy θ (the fixed-θ answer differs).
  std::vector<int> idx;
  for (int o = 0; o < 8; ++o)
    for (int u = 0; u < 4; ++u)
      for (int th = 0; th < 2; ++th) idx.push_back((o + th + u) % 8);
  std::vector<float> g, b8(static_cast<std::size_t>(2 * 8 * 2), 0.5f);
  for (int x = 0; x < 8; ++x) g.push_back((x + 1) / 36.0f);
  const Model f4 = Model::with_terminal_goal(t(from_idx(idx, 8, 2, 4), {8, 8, 2, 4}),
                                             t(b8, {1, 2, 8, 2}), t({0.4f, 0.3f, 0.2f, 0.1f}, {4}),
                                             t(g, {8}));
  std::vector<float> e0(8, 0.0f);
  e0[0] = 1;
  expect_dist(f4, req(Method::bp, e0, {0.6f, 0.4f}, 3, 3),
              {0.35159013f, 0.31184679f, 0.22579332f, 0.11076975f});
  expect_dist(p2(), req(Method::bp, {0.65f, 0.35f}, {0.55f, 0.45f}), {0.59064990f, 0.40935016f});
}

TEST(AifLoopy, RejectsAifAndNeedsNoGpu) {
  PlanRequest r = req(Method::aif, {0.8f, 0.2f}, {0.6f, 0.4f});
  test::expect_error([&] { plan(p1(false), {r}, Device::cpu()); }, ErrorCode::invalid_argument,
                     "loopy");
  // A batch: the same plans as one by one.
  const PlanRequest v = req(Method::vbp, {0.8f, 0.2f}, {0.6f, 0.4f});
  const PlanRequest w = req(Method::vbp, {0.3f, 0.7f}, {0.2f, 0.8f});
  const auto both = plan(p1(true), {v, w}, Device::cpu());
  EXPECT_EQ(both[1].action_dist, plan(p1(true), {w}, Device::cpu())[0].action_dist);
  EXPECT_EQ(both[0].action_dist, plan(p1(true), {v}, Device::cpu())[0].action_dist);
}

}  // namespace
}  // namespace mpe::aif
