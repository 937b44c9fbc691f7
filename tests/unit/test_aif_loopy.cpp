// Loopy-θ baselines bp, vbp, rm (aif-mp-baselines.md): every golden fixture of §8 at the doc's
// tolerance 1e-5 (the ones that tell loopy θ from fixed θ — F4, F6, V2, V4, R4 and the channel
// vectors — included), the §6 fast form against the literal §4/§5 form, the inert observation
// factors, invariants, the cases where loopy θ and fixed θ coincide, and bad requests.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>

#include "aif/model_support.hpp"
#include "aif_loopy.hpp"
#include "common/aif_loopy_core.hpp"
#include "support/aif_models.hpp"
#include "support/errors.hpp"

namespace mpe::aif {
namespace {

constexpr float kTol = 1e-5f;  // the doc's fixture tolerance

Tensor t(const std::vector<float>& v, const Shape& s) { return Tensor::from_vector(v, s); }

// Every element of a message against the doc's fixture values, within kTol.
template <class Got, class Want>
void expect_all_near(const std::vector<Got>& got, const std::vector<Want>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t k = 0; k < want.size(); ++k)
    EXPECT_NEAR(double(got[k]), double(want[k]), kTol) << what << " " << k;
}

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

// Problem P1 of §8 (idx dynamics, S = K = A = 2).
Model p1(bool theta_goal, std::vector<float> pu = {0.55f, 0.45f}) {
  const Tensor T = t(from_idx(kIdx, 2, 2, 2), {2, 2, 2, 2}), B = t(kB, {1, 2, 2, 2});
  if (theta_goal)
    return Model::with_theta_goal(T, B, t(pu, {2}), t({0.1f, 0.8f, 0.9f, 0.2f}, {2, 2}));
  return Model::with_terminal_goal(T, B, t(pu, {2}), t({0.1f, 0.9f}, {2}));
}

// Problem P2: the §7 problem of aif-mp.md (dense T, θ-goal).
Model p2() {
  return Model::with_theta_goal(t({0.9f, 0.2f, 0.4f, 0.7f, 0.3f, 0.8f, 0.6f, 0.1f, 0.1f, 0.8f, 0.6f,
                                   0.3f, 0.7f, 0.2f, 0.4f, 0.9f},
                                  {2, 2, 2, 2}),
                                t(kB, {1, 2, 2, 2}), t({0.6f, 0.4f}, {2}),
                                t({0.15f, 0.75f, 0.85f, 0.25f}, {2, 2}));
}

// F1–F3 (bp): the idx dynamics with an uninformative B, H = 1.
Model f1(bool theta_goal, std::vector<float> pu = {0.5f, 0.5f}) {
  const Tensor T = t(from_idx(kIdx, 2, 2, 2), {2, 2, 2, 2});
  const Tensor B = t(std::vector<float>(8, 0.5f), {1, 2, 2, 2});
  if (theta_goal)
    return Model::with_theta_goal(T, B, t(pu, {2}), t({0.01f, 0.9f, 0.99f, 0.1f}, {2, 2}));
  return Model::with_terminal_goal(T, B, t(pu, {2}), t({0.01f, 0.99f}, {2}));
}

// F4 (bp): S = 8, K = 2, A = 4, n = (o + θ + u) mod 8, g[x] = (x+1)/36.
Model f4() {
  std::vector<int> idx;
  for (int o = 0; o < 8; ++o)
    for (int u = 0; u < 4; ++u)
      for (int th = 0; th < 2; ++th) idx.push_back((o + th + u) % 8);
  std::vector<float> g;
  for (int x = 0; x < 8; ++x) g.push_back(static_cast<float>(x + 1) / 36.0f);
  return Model::with_terminal_goal(t(from_idx(idx, 8, 2, 4), {8, 8, 2, 4}),
                                   t(std::vector<float>(32, 0.5f), {1, 2, 8, 2}),
                                   t({0.4f, 0.3f, 0.2f, 0.1f}, {4}), t(g, {8}));
}

// F7 (bp): K = 1, u = 0 stays, u = 1 swaps.
Model f7(bool theta_goal) {
  const Tensor T = t(from_idx({0, 1, 1, 0}, 2, 1, 2), {2, 2, 1, 2});
  const Tensor B = t({0.5f, 0.5f, 0.5f, 0.5f}, {1, 2, 2, 1}), pu = t({0.5f, 0.5f}, {2});
  if (theta_goal) return Model::with_theta_goal(T, B, pu, t({0.1f, 0.9f}, {2, 1}));
  return Model::with_terminal_goal(T, B, pu, t({0.1f, 0.9f}, {2}));
}

// A move on the 2×2 Frozen Lake grid (pos = 2·row + col): u = 0..3 is L, D, R, U; a move off
// the grid stays put.
int lake_move(int pos, int u) {
  int r = pos / 2, c = pos % 2;
  if (u == 0) c -= 1;
  if (u == 1) r += 1;
  if (u == 2) c += 1;
  if (u == 3) r -= 1;
  return r >= 0 && r < 2 && c >= 0 && c < 2 ? 2 * r + c : pos;
}

// R5: 2×2 Frozen Lake with K = 1 (the port's test). x = pos + 4·scanned, pos = 2·row + col;
// hole at pos 1, goal at pos 3; actions L, D, R, U, SCAN; no slip; pos 1 and 3 absorb; moves
// keep the flag, SCAN sets it. F = 12 binary channels. The doc's terminal goal is unnormalised
// (0.01 everywhere, 1.0 at states 3 and 7); Model wants a distribution, and a constant factor
// on g cancels in every normalised quantity, so it is passed divided by its sum.
Model r5() {
  const int S = 8, A = 5;
  std::vector<float> T(static_cast<std::size_t>(S * S * A), 0.0f);
  for (int x = 0; x < S; ++x) {
    const int pos = x % 4, scanned = x / 4;
    for (int u = 0; u < A; ++u) {
      int np = pos, ns = scanned;
      if (pos == 1 || pos == 3) {
        // absorbing
      } else if (u == 4) {
        ns = 1;
      } else {
        np = lake_move(pos, u);
      }
      T[static_cast<std::size_t>(((np + 4 * ns) * S + x) * A + u)] = 1.0f;
    }
  }
  const int F = 12;
  std::vector<float> B(static_cast<std::size_t>(F * 2 * S), 0.0f);
  for (int f = 0; f < F; ++f)
    for (int x = 0; x < S; ++x) {
      const int pos = x % 4, scanned = x / 4;
      float fire;
      if (f < 8) {
        fire = x == f ? 0.999f : 0.001f;
      } else {
        const int c = f - 8;
        const bool hole = c == 1;
        const int d = std::abs(pos / 2 - c / 2) + std::abs(pos % 2 - c % 2);
        const float noise = 0.05f + 0.15f * static_cast<float>(d) / 2.0f;
        fire = scanned ? (hole ? 0.999f : 0.001f) : (hole ? 1.0f - noise : noise);
      }
      B[static_cast<std::size_t>((f * 2 + 0) * S + x)] = 1.0f - fire;
      B[static_cast<std::size_t>((f * 2 + 1) * S + x)] = fire;
    }
  std::vector<float> g(static_cast<std::size_t>(S), 0.01f);
  g[3] = g[7] = 1.0f;
  for (float& v : g) v /= 2.06f;
  return Model::with_terminal_goal(t(T, {S, S, 1, A}), t(B, {F, 2, S, 1}),
                                   t(std::vector<float>(5, 0.2f), {A}), t(g, {S}));
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
PlanRequest p1req(Method m, int I = 2) { return req(m, {0.8f, 0.2f}, {0.6f, 0.4f}, 2, I); }
PlanRequest p2req(Method m) { return req(m, {0.65f, 0.35f}, {0.55f, 0.45f}); }

Plan plan1(const Model& m, const PlanRequest& r) { return plan(m, {r}, Device::cpu())[0]; }

void expect_dist(const Model& m, const PlanRequest& r, const std::vector<float>& want) {
  const Plan p = plan1(m, r);
  ASSERT_EQ(p.action_dist.size(), want.size());
  for (std::size_t u = 0; u < want.size(); ++u) EXPECT_NEAR(p.action_dist[u], want[u], kTol) << u;
}

// The kernel called directly (float64 outputs, r_u, and the internal switches).
struct Out {
  std::vector<double> dist, qu, ru, rx;
  double change = 0;
};

Out run_kernel(const Model& m, const PlanRequest& r, bool fast = true, bool obs = true) {
  const ModelSupport& sp = model_support(m);
  kernels::AifLoopyConfig c;
  fill_shape(m, r, c);
  c.method = static_cast<int>(r.method);
  c.obs_factors = obs;
  c.fast = fast;
  c.nnz = sp.nnz();
  Out o;
  o.dist.resize(static_cast<std::size_t>(c.A));
  o.qu.resize(static_cast<std::size_t>(c.H * c.A));
  o.ru.resize(static_cast<std::size_t>(c.H * c.S * c.A));
  o.rx.resize(static_cast<std::size_t>(c.H * c.nnz));
  kernels::AifLoopyProblem p;
  fill_host_inputs(m, r, p);
  fill_support(sp, p);
  p.nnz = sp.nnz();
  p.action_dist = o.dist.data();
  p.q_u = o.qu.data();
  p.max_change = &o.change;
  p.r_u = o.ru.data();
  p.r_x = o.rx.data();
  kernels::aif_loopy_cpu(c, &p, 1);
  return o;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (std::size_t k = 0; k < a.size() && k < b.size(); ++k)
    d = std::max(d, std::fabs(a[k] - b[k]));
  return d;
}

// ---- §8.1 bp ----

TEST(AifLoopy, BpFixturesF1ToF4) {
  expect_dist(f1(false), req(Method::bp, {1, 0}, {0.9f, 0.1f}, 1, 3), {0.10800002f, 0.892f});
  expect_dist(f1(true), req(Method::bp, {1, 0}, {0.9f, 0.1f}, 1, 3), {0.17920004f, 0.82079995f});
  const Plan f3 = plan1(f1(false, {1.0f, 0.0f}), req(Method::bp, {1, 0}, {0.9f, 0.1f}, 1, 2));
  EXPECT_NEAR(f3.action_dist[0], 1.0f, kTol);
  EXPECT_LT(f3.action_dist[1], 1e-6f);
  std::vector<float> e0(8, 0.0f);
  e0[0] = 1;
  expect_dist(f4(), req(Method::bp, e0, {0.6f, 0.4f}, 3, 3),
              {0.35159013f, 0.31184679f, 0.22579332f, 0.11076975f});
}

TEST(AifLoopy, BpCavityF5) {
  const double lth[2] = {std::log(0.6), std::log(0.4)};
  const double Md[4] = {std::log(0.9), std::log(0.2), std::log(0.3), std::log(0.8)};
  double cav[2];
  kernels::loopy::cavity(lth, Md, 2, 2, 0, cav);
  EXPECT_NEAR(std::exp(cav[0]), 0.36, kTol);
  EXPECT_NEAR(std::exp(cav[1]), 0.64, kTol);
  kernels::loopy::cavity(lth, Md, 2, 2, 1, cav);
  EXPECT_NEAR(std::exp(cav[0]), 0.87096775, kTol);
  EXPECT_NEAR(std::exp(cav[1]), 0.12903225, kTol);
}

TEST(AifLoopy, BpFixturesF6F7) {
  expect_dist(p2(), p2req(Method::bp), {0.59064990f, 0.40935016f});
  expect_dist(f7(false), req(Method::bp, {0.8f, 0.2f}, {1.0f}), {0.5f, 0.5f});
  expect_dist(f7(true), req(Method::bp, {0.8f, 0.2f}, {1.0f}), {0.65384614f, 0.34615386f});
}

// ---- §8.2 vbp ----

TEST(AifLoopy, VbpFixturesV1WithItsPolicyChannel) {
  expect_dist(p1(false), p1req(Method::vbp), {0.5723877549f, 0.4276122451f});
  const Out o = run_kernel(p1(false), p1req(Method::vbp));
  const std::vector<double> ru = {-0.6020950675, -0.7933278680, -0.5936009884, -0.8037096262,
                                  -0.7556596398, -0.6343136429, -0.4655718207, -0.9882594347};
  expect_all_near(o.ru, ru, "r_u");
}

TEST(AifLoopy, VbpFixturesV2ToV5) {
  expect_dist(p1(true), p1req(Method::vbp), {0.5651110411f, 0.4348889887f});
  const Out v2 = run_kernel(p1(true), p1req(Method::vbp));
  EXPECT_NEAR(v2.ru[0], -0.6302188039, kTol);                    // log r_u[0,0,0]
  EXPECT_NEAR(v2.ru[(1 * 2 + 1) * 2 + 1], -0.8396785259, kTol);  // log r_u[1,1,1]
  const Plan v3 = plan1(p1(false, {1.0f, 0.0f}), p1req(Method::vbp));
  EXPECT_NEAR(v3.action_dist[0], 1.0f, kTol);
  EXPECT_LT(v3.action_dist[1], 1e-6f);
  expect_dist(p2(), p2req(Method::vbp), {0.64047801f, 0.35952204f});
  const Plan v5 = plan1(p1(false), p1req(Method::vbp, 1));
  EXPECT_GT(std::fabs(v5.action_dist[0] - 0.5723877549f), 1e-6f);
}

// ---- §8.3 rm ----

TEST(AifLoopy, RmFixturesR1R2WithTheirChannels) {
  const Plan a = plan1(p1(false), p1req(Method::rm));
  EXPECT_NEAR(a.action_dist[0], 0.5735483766f, kTol);
  EXPECT_NEAR(a.action_dist[1], 0.4264516234f, kTol);
  const std::vector<float> rx1 = {-0.6076425314f, -0.8117039800f, -0.7866522670f, -0.5871681571f,
                                  -0.8117038012f, -0.6076425314f, -0.5871682167f, -0.7866523266f,
                                  -1.2389082909f, -1.5413109064f, -0.3420683146f, -0.2409259677f,
                                  -1.5413109064f, -1.2389080524f, -0.2409260720f, -0.3420683742f};
  expect_all_near(a.log_r_x.to_vector<float>(), rx1, "r_x");
  const Plan b = plan1(p1(true), p1req(Method::rm));
  EXPECT_NEAR(b.action_dist[0], 0.5526032448f, kTol);
  EXPECT_NEAR(b.action_dist[1], 0.4473967552f, kTol);
  const std::vector<float> rx2 = {-0.7956663370f, -0.5368347764f, -0.6001678705f, -0.8785029054f,
                                  -0.5368347764f, -0.7956663370f, -0.8785029054f, -0.6001678705f,
                                  -0.7936215401f, -0.5222671032f, -0.6018525362f, -0.8993703127f,
                                  -0.5222671628f, -0.7936215401f, -0.8993701339f, -0.6018525362f};
  expect_all_near(b.log_r_x.to_vector<float>(), rx2, "r_x");
}

TEST(AifLoopy, RmFixturesR3ToR5) {
  const Plan r3 = plan1(p1(false, {1.0f, 0.0f}), p1req(Method::rm));
  EXPECT_NEAR(r3.action_dist[0], 1.0f, kTol);
  EXPECT_LT(r3.action_dist[1], 1e-6f);
  expect_dist(p2(), p2req(Method::rm), {0.63885731f, 0.36114272f});
  std::vector<float> e0(8, 0.0f);
  e0[0] = 1;
  const Model m = r5();
  const Plan r5p = plan1(m, req(Method::rm, e0, {1.0f}));
  EXPECT_NEAR(r5p.action_dist[0], 0.0030205285f, kTol);
  EXPECT_NEAR(r5p.action_dist[1], 0.9879179001f, kTol);
  // Σ_n exp r_x = 1 for every (t, o, u) (all of them lie on T's support here).
  const auto rx = r5p.log_r_x.to_vector<float>();  // [t,o,n,u]
  for (int t2 = 0; t2 < 2; ++t2)
    for (int o = 0; o < 8; ++o)
      for (int u = 0; u < 5; ++u) {
        double s = 0;
        for (int n = 0; n < 8; ++n)
          s += std::exp(rx[static_cast<std::size_t>(((t2 * 8 + o) * 8 + n) * 5 + u)]);
        EXPECT_NEAR(s, 1.0, 1e-5) << t2 << " " << o << " " << u;
      }
}

// The agent-level fixture A1 (§8, test_agent.mojo): 2×2 Frozen Lake with K = 2 (holes: θ0 at
// cell 1, θ1 at cell 2; goal cell 3), x = pos + 4·scanned, actions L, D, R, U, SCAN, no slip;
// holes and the goal absorb, SCAN sets the flag. Planning B: the four hole channels, unscanned
// 1 − noise on a hole and noise elsewhere (noise = 0.05 + 0.15·d/2, d the Manhattan distance),
// scanned 0.999 / 0.001, clipped to [0.01, 0.99]. θ-goal C = softmax_x(goal − hole). After
// the filter of A0, q(θ) = [0.98, 0.02] and q(x) is e_0 up to 2e-6 (e_0 here; the argmax
// margins are 0.11 and more). Plan H = 2, I = 2, λ = 0.5, uniform action prior.
Model a1_model() {
  const int S = 8, K = 2, A = 5;
  auto hole = [](int pos, int th) { return pos == (th == 0 ? 1 : 2); };
  std::vector<float> T(static_cast<std::size_t>(S * S * K * A), 0.0f);
  for (int x = 0; x < S; ++x)
    for (int th = 0; th < K; ++th)
      for (int u = 0; u < A; ++u) {
        const int pos = x % 4;
        int np = pos, ns = x / 4;
        if (!(hole(pos, th) || pos == 3)) {
          if (u == 4) {
            ns = 1;
          } else {
            np = lake_move(pos, u);
          }
        }
        T[static_cast<std::size_t>((((np + 4 * ns) * S + x) * K + th) * A + u)] = 1.0f;
      }
  std::vector<float> B(static_cast<std::size_t>(4 * 2 * S * K));
  for (int c = 0; c < 4; ++c)
    for (int x = 0; x < S; ++x)
      for (int th = 0; th < K; ++th) {
        const int pos = x % 4;
        const int d = std::abs(pos / 2 - c / 2) + std::abs(pos % 2 - c % 2);
        const float noise = 0.05f + 0.15f * static_cast<float>(d) / 2.0f;
        float fire = x / 4 ? (hole(c, th) ? 0.999f : 0.001f) : (hole(c, th) ? 1.0f - noise : noise);
        fire = std::min(0.99f, std::max(0.01f, fire));
        B[static_cast<std::size_t>(((c * 2 + 0) * S + x) * K + th)] = 1.0f - fire;
        B[static_cast<std::size_t>(((c * 2 + 1) * S + x) * K + th)] = fire;
      }
  std::vector<float> C(static_cast<std::size_t>(S * K));
  for (int th = 0; th < K; ++th) {
    double z = 0;
    for (int x = 0; x < S; ++x)
      z += std::exp((x % 4 == 3 ? 1.0 : 0.0) - (hole(x % 4, th) ? 1.0 : 0.0));
    for (int x = 0; x < S; ++x) {
      C[static_cast<std::size_t>(x * K + th)] = static_cast<float>(
          std::exp((x % 4 == 3 ? 1.0 : 0.0) - (hole(x % 4, th) ? 1.0 : 0.0)) / z);
    }
  }
  return Model::with_theta_goal(t(T, {S, S, K, A}), t(B, {4, 2, S, K}),
                                t(std::vector<float>(5, 0.2f), {A}), t(C, {S, K}));
}

TEST(AifLoopy, AgentFixtureA1Argmax) {
  const Model m = a1_model();
  std::vector<float> e0(8, 0.0f);
  e0[0] = 1;
  // argmax 1 for the baselines, with the doc's margins over the runner-up (0.11 / 0.19 / 0.23)
  const std::pair<Method, float> cases[] = {
      {Method::bp, 0.11f}, {Method::vbp, 0.19f}, {Method::rm, 0.23f}};
  for (const auto& [me, margin] : cases) {
    std::vector<float> d = plan1(m, req(me, e0, {0.98f, 0.02f})).action_dist;
    EXPECT_EQ(std::max_element(d.begin(), d.end()) - d.begin(), 1) << method_name(me);
    const float best = d[1];
    d[1] = 0;
    EXPECT_NEAR(best - *std::max_element(d.begin(), d.end()), margin, 0.006f) << method_name(me);
  }
  PlanRequest aif = req(Method::aif, e0, {0.98f, 0.02f});
  aif.theta = ThetaMode::fixed;
  const Plan p = plan1(m, aif);  // aif (θ fixed) scans instead
  EXPECT_EQ(std::max_element(p.action_dist.begin(), p.action_dist.end()) - p.action_dist.begin(),
            4);
}

// ---- §6 fast form and the inert observation factors ----

TEST(AifLoopy, FastFormEqualsLiteralForm) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<Model, PlanRequest>> cases;
  for (Method m : {Method::bp, Method::vbp, Method::rm}) {
    cases.emplace_back(p1(false), p1req(m, 3));
    cases.emplace_back(p1(true), p1req(m, 3));
    PlanRequest r = p2req(m);
    r.iterations = 4;
    cases.emplace_back(p2(), r);
    std::vector<float> e0(8, 0.0f);
    e0[0] = 1;
    cases.emplace_back(f4(), req(m, e0, {0.6f, 0.4f}, 3, 3));
    cases.emplace_back(r5(), req(m, e0, {1.0f}, 3, 3));
    const test::AifSizes z{6, 3, 3, 2, 3};
    for (bool tg : {false, true}) {
      PlanRequest q = test::random_aif_request(z, rng, 4);
      q.method = m;
      q.theta = ThetaMode::loopy;
      q.iterations = 6;
      q.damping = 0.4f;
      cases.emplace_back(test::random_aif_model(z, rng, tg, 0.5f), q);
      cases.emplace_back(test::deterministic_aif_model(7, 3, 3, rng, tg), [&] {
        PlanRequest d = test::random_aif_request({7, 3, 3, 2, 3}, rng, 3);
        d.method = m;
        d.theta = ThetaMode::loopy;
        d.iterations = 5;
        return d;
      }());
    }
  }
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const auto& [model, r] = cases[k];
    const Out fast = run_kernel(model, r, true), lit = run_kernel(model, r, false);
    EXPECT_LT(max_diff(fast.dist, lit.dist), 1e-12) << "case " << k;
    EXPECT_LT(max_diff(fast.qu, lit.qu), 1e-12) << "case " << k;
    EXPECT_LT(max_diff(fast.ru, lit.ru), 1e-11) << "case " << k;
    EXPECT_LT(max_diff(fast.rx, lit.rx), 1e-11) << "case " << k;
    EXPECT_NEAR(fast.change, lit.change, 1e-12) << "case " << k;
  }
}

// B is float32, so Σ_y B is 1 only within ~3e-8 here (0.9f + 0.1f): the factors are inert up
// to that (the doc's float64 check gives 1e-15).
TEST(AifLoopy, ObservationFactorsAreInertForNormalisedB) {
  for (Method m : {Method::vbp, Method::rm})
    for (bool tg : {false, true}) {
      const Out on = run_kernel(p1(tg), p1req(m, 3), true, true);
      const Out off = run_kernel(p1(tg), p1req(m, 3), true, false);
      EXPECT_LT(max_diff(on.dist, off.dist), 1e-7);
      EXPECT_LT(max_diff(on.ru, off.ru), 1e-6);
      EXPECT_LT(max_diff(on.rx, off.rx), 1e-6);
      const Out lit = run_kernel(p1(tg), p1req(m, 3), false, true);
      EXPECT_LT(max_diff(lit.dist, on.dist), 1e-12);
      EXPECT_LT(max_diff(lit.ru, on.ru), 1e-12);
    }
}

// ---- invariants ----

TEST(AifLoopy, InvariantsOnRandomModels) {
  std::mt19937_64 rng(11);
  const test::AifSizes z{9, 4, 3, 2, 3};
  for (Method m : {Method::bp, Method::vbp, Method::rm})
    for (bool tg : {false, true}) {
      // a structural zero in the action prior: that action gets ~0 probability
      std::vector<float> pu = test::random_dist(rng, 1, z.A, 1);
      pu[1] = 0.0f;
      const Model base = test::random_aif_model(z, rng, tg, 0.6f);
      const Model model =
          tg ? Model::with_theta_goal(base.T(), base.B(), t(pu, {z.A}), base.goal())
             : Model::with_terminal_goal(base.T(), base.B(), t(pu, {z.A}), base.goal());
      std::vector<PlanRequest> rs;
      for (int k = 0; k < 3; ++k) {
        PlanRequest r = test::random_aif_request(z, rng, 4);
        r.method = m;
        r.theta = ThetaMode::loopy;
        r.iterations = 5;
        r.damping = 0.3f;
        rs.push_back(r);
      }
      const auto plans = plan(model, rs, Device::cpu());
      for (const Plan& p : plans) {
        double s = 0;
        for (float v : p.action_dist) {
          EXPECT_TRUE(std::isfinite(v));
          EXPECT_GE(v, 0.0f);
          s += v;
        }
        EXPECT_NEAR(s, 1.0, 1e-6);
        EXPECT_LT(p.action_dist[1], 1e-6f);
        EXPECT_EQ(p.iterations_run, 5);
        EXPECT_TRUE(std::isfinite(p.max_change));
        ASSERT_EQ(p.q_u.shape(), (Shape{4, z.A}));
        const auto qu = p.q_u.to_vector<float>();
        for (int h = 0; h < 4; ++h) {
          double row = 0;
          for (std::int64_t u = 0; u < z.A; ++u) row += qu[static_cast<std::size_t>(h * z.A + u)];
          EXPECT_NEAR(row, 1.0, 1e-5);
        }
        EXPECT_FALSE(p.log_r_c.defined());
        EXPECT_EQ(p.log_r_x.defined(), m == Method::rm);
        if (m != Method::rm) continue;
        const auto rx = p.log_r_x.to_vector<float>();  // normalised over n where T has support
        const ModelSupport& sp = model_support(model);
        for (int h = 0; h < 4; ++h)
          for (std::int64_t ou = 0; ou < z.S * z.A; ++ou) {
            const std::int64_t o = ou / z.A, u = ou % z.A;
            double row = 0;
            for (std::int64_t n = 0; n < z.S; ++n) {
              const float v = rx[static_cast<std::size_t>(((h * z.S + o) * z.S + n) * z.A + u)];
              EXPECT_FALSE(std::isnan(v));
              row += std::exp(static_cast<double>(v));
            }
            // Rows of the zero-prior action are not checked: their raw r_x is LOG_ZERO, and
            // geometric damping with λ < 1/2 leaves λ·LOG_ZERO + O(1) there, whose rounding
            // (~1e-5 at 3e11) survives the renormalisation. They never reach action_dist.
            if (u != 1 &&
                sp.off[static_cast<std::size_t>(ou + 1)] > sp.off[static_cast<std::size_t>(ou)]) {
              EXPECT_NEAR(row, 1.0, 1e-5);
            }
          }
      }
      PlanRequest quiet = rs[0];
      quiet.return_channels = false;
      EXPECT_FALSE(plan1(model, quiet).log_r_x.defined());
      EXPECT_EQ(plan1(model, quiet).action_dist, plans[0].action_dist);
    }
}

// A goal no action can reach within H: every q_u value is LOG_ZERO; the reference's softmax of
// equal values is uniform over the actions the prior allows, and so is ours (no zeros, no NaN).
TEST(AifLoopy, UnreachableGoalGivesTheUniformPolicy) {
  // S = 3, A = 3, K = 1: every action moves 0 -> 1; 1 and 2 absorb; the goal is state 2.
  std::vector<float> T(27, 0.0f);
  for (int u = 0; u < 3; ++u) {
    T[static_cast<std::size_t>((1 * 3 + 0) * 3 + u)] = 1.0f;
    T[static_cast<std::size_t>((1 * 3 + 1) * 3 + u)] = 1.0f;
    T[static_cast<std::size_t>((2 * 3 + 2) * 3 + u)] = 1.0f;
  }
  const Model m =
      Model::with_terminal_goal(t(T, {3, 3, 1, 3}), t(std::vector<float>(6, 0.5f), {1, 2, 3, 1}),
                                t({0.5f, 0.0f, 0.5f}, {3}), t({0.0f, 0.0f, 1.0f}, {3}));
  for (Method me : {Method::bp, Method::vbp, Method::rm}) {
    const Plan p = plan1(m, req(me, {1, 0, 0}, {1.0f}, 2, 3));
    EXPECT_NEAR(p.action_dist[0], 0.5f, 1e-6f) << method_name(me);
    EXPECT_EQ(p.action_dist[1], 0.0f) << method_name(me);
    EXPECT_NEAR(p.action_dist[2], 0.5f, 1e-6f) << method_name(me);
  }
}

// ---- where loopy θ and fixed θ coincide ----
// K = 1 (θ has nothing to learn) for all three methods, and I = 1 (the cavities are still the
// prior, and uniform r_x of vbp only rescales the kernel) for any K. Fixed θ runs aif-mp.md §4
// in float32, hence 2e-5.
TEST(AifLoopy, EqualsFixedThetaForOneConfigurationOrOneIteration) {
  std::mt19937_64 rng(3);
  for (Method m : {Method::bp, Method::vbp, Method::rm})
    for (bool tg : {false, true})
      for (const auto& [K, I] : {std::pair<std::int64_t, int>{1, 4}, {3, 1}}) {
        const test::AifSizes z{6, K, 3, 2, 2};
        const Model model = test::random_aif_model(z, rng, tg, 0.3f);
        PlanRequest r = test::random_aif_request(z, rng, 3);
        r.method = m;
        r.iterations = I;
        r.damping = 0.6f;
        PlanRequest l = r;
        l.theta = ThetaMode::loopy;
        const Plan a = plan1(model, r), b = plan1(model, l);
        for (std::size_t u = 0; u < a.action_dist.size(); ++u) {
          EXPECT_NEAR(a.action_dist[u], b.action_dist[u], 2e-5)
              << method_name(m) << " K " << K << " I " << I << " goal " << tg;
        }
        if (m != Method::rm) continue;
        const auto ra = a.log_r_x.to_vector<float>(), rb = b.log_r_x.to_vector<float>();
        ASSERT_EQ(ra.size(), rb.size());
        for (std::size_t k = 0; k < ra.size(); ++k) {
          if (ra[k] > -1e6f) {
            EXPECT_NEAR(ra[k], rb[k], 1e-4) << k;
          }
        }
      }
}

// ---- batches and bad requests ----

TEST(AifLoopy, BatchEqualsOneByOneAndMixesGoals) {
  const Model m = p1(true);
  const Model other = m.with_goal(t({0.3f, 0.6f, 0.7f, 0.4f}, {2, 2}));
  const PlanRequest v = p1req(Method::rm);
  PlanRequest w = req(Method::rm, {0.3f, 0.7f}, {0.2f, 0.8f});
  const auto both = plan(std::vector<Model>{m, other}, {v, w}, Device::cpu());
  EXPECT_EQ(both[0].action_dist, plan1(m, v).action_dist);
  EXPECT_EQ(both[1].action_dist, plan1(other, w).action_dist);
  EXPECT_EQ(both[1].log_r_x.to_vector<float>(), plan1(other, w).log_r_x.to_vector<float>());
}

TEST(AifLoopy, BadRequestsAreRejectedClearly) {
  PlanRequest r = p1req(Method::aif);
  test::expect_error([&] { plan(p1(false), {r}, Device::cpu()); }, ErrorCode::invalid_argument,
                     "loopy");
  PlanRequest q = p1req(Method::vbp);
  q.q_theta = {0.5f, 0.2f};  // does not sum to 1
  test::expect_error(
      [&] {
        plan(p1(false), {p1req(Method::vbp), q}, Device::cpu());
      },
      ErrorCode::invalid_argument, "q_theta");
  PlanRequest h = p1req(Method::bp);
  h.horizon = 0;
  test::expect_error([&] { plan(p1(false), {h}, Device::cpu()); }, ErrorCode::invalid_argument,
                     "horizon");
}

// A device request runs on the host (no CUDA twin yet): same plan.
TEST(AifLoopy, DefaultDeviceGivesTheHostPlan) {
  const PlanRequest r = p2req(Method::rm);
  EXPECT_EQ(plan(p2(), {r})[0].action_dist, plan1(p2(), r).action_dist);
}

}  // namespace
}  // namespace mpe::aif
