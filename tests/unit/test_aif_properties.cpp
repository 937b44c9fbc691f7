// AIF-MP on the CPU: bp against brute-force enumeration, invariants on random problems, and
// malformed models and requests.
#include <cmath>
#include <functional>
#include <random>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>

#include "support/aif_models.hpp"

namespace mpe::aif {
namespace {

using Sizes = test::AifSizes;
using test::random_dist;

Model random_model(const Sizes& z, std::mt19937_64& rng, bool theta_goal, float zeros = 0.0f) {
  return test::random_aif_model(z, rng, theta_goal, zeros);
}

PlanRequest random_request(const Sizes& z, std::mt19937_64& rng, int H) {
  return test::random_aif_request(z, rng, H);
}

// Marginals of u_t in the chain q0(x_0) Π_t pu(u_t) T̄(x_{t+1} | x_t, u_t) Π_t e^{pref(x_t)}
// · goal(x_H), T̄ = Σ_θ qθ T, by enumerating every path in float64.
std::vector<std::vector<double>> brute_force_action_marginals(const Model& m,
                                                              const PlanRequest& r) {
  const auto S = m.states(), K = m.thetas(), A = m.actions();
  const int H = r.horizon;
  const auto T = m.T().to_vector<float>();
  const auto pu = m.action_prior().to_vector<float>();
  const auto goal = m.goal().to_vector<float>();
  std::vector<double> tbar(static_cast<std::size_t>(S * S * A), 0.0);  // [n,o,u]
  for (std::int64_t n = 0; n < S; ++n)
    for (std::int64_t o = 0; o < S; ++o)
      for (std::int64_t u = 0; u < A; ++u)
        for (std::int64_t th = 0; th < K; ++th) {
          tbar[static_cast<std::size_t>((n * S + o) * A + u)] +=
              double(r.q_theta[static_cast<std::size_t>(th)]) *
              T[static_cast<std::size_t>(((n * S + o) * K + th) * A + u)];
        }
  std::vector<double> pref(static_cast<std::size_t>(S), 1.0),
      last(static_cast<std::size_t>(S), 1.0);
  if (m.goal_kind() == GoalKind::theta) {
    for (std::int64_t x = 0; x < S; ++x) {
      double p = 0;
      for (std::int64_t th = 0; th < K; ++th) {
        p += double(r.q_theta[static_cast<std::size_t>(th)]) *
             goal[static_cast<std::size_t>(x * K + th)];
      }
      pref[static_cast<std::size_t>(x)] = p;
    }
  } else {
    for (std::int64_t x = 0; x < S; ++x)
      last[static_cast<std::size_t>(x)] = goal[static_cast<std::size_t>(x)];
  }
  std::vector<std::vector<double>> marg(static_cast<std::size_t>(H),
                                        std::vector<double>(static_cast<std::size_t>(A), 0.0));
  std::vector<std::int64_t> xs(static_cast<std::size_t>(H + 1)), us(static_cast<std::size_t>(H));
  std::function<void(int, double)> walk = [&](int t, double w) {
    if (t == H) {
      const double total =
          w * pref[static_cast<std::size_t>(xs[H])] * last[static_cast<std::size_t>(xs[H])];
      for (int s = 0; s < H; ++s)
        marg[static_cast<std::size_t>(s)][static_cast<std::size_t>(us[s])] += total;
      return;
    }
    for (std::int64_t u = 0; u < A; ++u)
      for (std::int64_t n = 0; n < S; ++n) {
        us[t] = u;
        xs[t + 1] = n;
        walk(t + 1, w * pref[static_cast<std::size_t>(xs[t])] * pu[static_cast<std::size_t>(u)] *
                        tbar[static_cast<std::size_t>((n * S + xs[t]) * A + u)]);
      }
  };
  for (std::int64_t x0 = 0; x0 < S; ++x0) {
    xs[0] = x0;
    walk(0, r.q0[static_cast<std::size_t>(x0)]);
  }
  for (auto& row : marg) {
    double z = 0;
    for (double v : row) z += v;
    for (double& v : row) v /= z;
  }
  return marg;
}

TEST(AifBruteForce, BpWithFullStepIsExactSumProduct) {
  std::mt19937_64 rng(7);
  int checked = 0;
  for (std::int64_t S : {1, 2, 3})
    for (std::int64_t A : {1, 2})
      for (int H : {1, 2, 3})
        for (bool theta_goal : {false, true}) {
          const Sizes z{S, 2, A, 2, 3};
          const Model m = random_model(z, rng, theta_goal);
          PlanRequest r = random_request(z, rng, H);
          r.method = Method::bp;
          r.damping = 1.0f;
          r.iterations = 3;
          for (ObservationPath path : {ObservationPath::dense, ObservationPath::precomputed}) {
            r.observation_path = path;
            const Plan p = plan(m, {r}, Device::cpu())[0];
            const auto want = brute_force_action_marginals(m, r);
            const auto got = p.q_u.to_vector<float>();
            for (int t = 0; t < H; ++t)
              for (std::int64_t u = 0; u < A; ++u) {
                ASSERT_NEAR(got[static_cast<std::size_t>(t * A + u)], want[t][u], 1e-5)
                    << "S=" << S << " A=" << A << " H=" << H << " t=" << t << " u=" << u;
              }
            ++checked;
          }
        }
  EXPECT_EQ(checked, 72);
}

TEST(AifInvariants, RandomProblemsEveryMethodAndPath) {
  std::mt19937_64 rng(11);
  for (Method method : {Method::bp, Method::vbp, Method::rm, Method::aif})
    for (ObservationPath path : {ObservationPath::dense, ObservationPath::precomputed})
      for (bool theta_goal : {false, true}) {
        const Sizes z{5, 3, 3, 2, 3};
        const Model m = random_model(z, rng, theta_goal, 0.4f);
        PlanRequest r = random_request(z, rng, 4);
        r.method = method;
        r.observation_path = path;
        r.iterations = 6;
        r.damping = 0.6f;
        const Plan p = plan(m, {r}, Device::cpu())[0];
        double sum = 0;
        for (float a : p.action_dist) {
          ASSERT_TRUE(std::isfinite(a));
          sum += a;
        }
        EXPECT_NEAR(sum, 1.0, 1e-5);
        const auto rx = p.log_r_x.to_vector<float>();  // [H, S, S, A], normalised over S_new
        const auto T = m.T().to_vector<float>();
        for (int t = 0; t < 4; ++t)
          for (std::int64_t o = 0; o < z.S; ++o)
            for (std::int64_t u = 0; u < z.A; ++u) {
              double s = 0;
              for (std::int64_t n = 0; n < z.S; ++n) {
                const float v = rx[static_cast<std::size_t>(((t * z.S + o) * z.S + n) * z.A + u)];
                ASSERT_FALSE(std::isnan(v));
                s += std::exp(double(v));
                bool structural_zero = true;  // T is zero for every θ
                for (std::int64_t th = 0; th < z.K; ++th) {
                  structural_zero &=
                      T[static_cast<std::size_t>(((n * z.S + o) * z.K + th) * z.A + u)] == 0.0f;
                }
                if (structural_zero && method >= Method::rm) {
                  ASSERT_LT(v, -1e11f);
                }
              }
              ASSERT_NEAR(s, 1.0, 1e-5);
            }
        if (path == ObservationPath::dense) {
          const auto rc = p.log_r_c.to_vector<float>();  // normalised over O
          for (int t = 0; t <= 4; ++t)
            for (std::int64_t f = 0; f < z.F; ++f)
              for (std::int64_t x = 0; x < z.S; ++x)
                for (std::int64_t th = 0; th < z.K; ++th) {
                  double s = 0;
                  for (std::int64_t y = 0; y < z.O; ++y) {
                    s += std::exp(double(rc[static_cast<std::size_t>(
                        (((t * z.F + f) * z.O + y) * z.S + x) * z.K + th)]));
                  }
                  ASSERT_NEAR(s, 1.0, 1e-5);
                }
        }
      }
}

TEST(AifInvariants, EarlyStopAndArithmeticDamping) {
  std::mt19937_64 rng(5);
  const Sizes z{4, 2, 2, 1, 2};
  const Model m = random_model(z, rng, false);
  PlanRequest r = random_request(z, rng, 3);
  r.iterations = 500;
  r.tolerance = 1e-2f;
  const Plan p = plan(m, {r}, Device::cpu())[0];
  EXPECT_LT(p.iterations_run, 500);
  EXPECT_GE(p.iterations_run, 2);
  EXPECT_LT(p.max_change, 1e-2f);
  // Stopping early is the same as asking for that many iterations.
  PlanRequest fixed = r;
  fixed.tolerance = 0.0f;
  fixed.iterations = p.iterations_run;
  EXPECT_EQ(plan(m, {fixed}, Device::cpu())[0].action_dist, p.action_dist);
  // bp updates no channel: it stops after the minimum of two iterations.
  PlanRequest bp = r;
  bp.method = Method::bp;
  EXPECT_EQ(plan(m, {bp}, Device::cpu())[0].iterations_run, 2);
  r.damping_kind = DampingKind::arithmetic;
  const Plan q = plan(m, {r}, Device::cpu())[0];
  EXPECT_NEAR(q.action_dist[0] + q.action_dist[1], 1.0f, 1e-5);
}

template <class Fn>
std::string error_text(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(AifErrors, MalformedModelsAndRequests) {
  const Tensor T = Tensor::from_vector<float>({0.5f, 0.5f, 0.5f, 0.5f}, {2, 2, 1, 1});
  const Tensor B = Tensor::from_vector<float>({1.f, 1.f, 0.f, 0.f}, {1, 2, 2, 1});
  const Tensor pu = Tensor::from_vector<float>({1.f}, {1});
  const Tensor g = Tensor::from_vector<float>({0.5f, 0.5f}, {2});
  EXPECT_EQ(error_text([&] { Model::with_terminal_goal(T, B, pu, g); }), "no error");
  const Tensor T_bad = Tensor::from_vector<float>({0.5f, 0.5f, 0.6f, 0.5f}, {2, 2, 1, 1});
  EXPECT_NE(error_text([&] {
              Model::with_terminal_goal(T_bad, B, pu, g);
            }).find("T[:, 0, 0, 0] sums to 1.1 over S_new"),
            std::string::npos);
  const Tensor T_neg = Tensor::from_vector<float>({1.5f, -0.5f, 0.5f, 0.5f}, {2, 2, 1, 1});
  EXPECT_NE(error_text([&] {
              Model::with_terminal_goal(T_neg, B, pu, g);
            }).find("T[0, 1, 0, 0] = -0.5 is not a probability"),
            std::string::npos);
  const Tensor B_bad = Tensor::from_vector<float>({1.f, 1.f, 0.f, 0.f}, {1, 2, 1, 2});
  EXPECT_NE(error_text([&] { Model::with_terminal_goal(T, B_bad, pu, g); }).find("model tensor B"),
            std::string::npos);
  const Tensor g_bad = Tensor::from_vector<float>({0.5f, NAN}, {2});
  EXPECT_NE(error_text([&] { Model::with_terminal_goal(T, B, pu, g_bad); }).find("goal[1]"),
            std::string::npos);
  EXPECT_NE(error_text([&] {
              Model::with_terminal_goal(T, B, Tensor::zeros({1}, DType::f32), g);
            }).find("action_prior weights sum to 0"),
            std::string::npos);

  const Model m = Model::with_terminal_goal(T, B, pu, g);
  PlanRequest r;
  r.q0 = {0.5f, 0.5f};
  r.q_theta = {1.0f};
  EXPECT_EQ(plan(m, {r}, Device::cpu()).size(), 1u);
  std::vector<PlanRequest> rs(3, r);
  rs[2].q0 = {0.7f, 0.7f};
  EXPECT_NE(error_text([&] { plan(m, rs, Device::cpu()); }).find("plan request 2: q0 sums to 1.4"),
            std::string::npos);
  rs[2] = r;
  rs[2].q_theta = {0.5f, 0.5f};
  EXPECT_NE(error_text([&] { plan(m, rs, Device::cpu()); }).find("q_theta has 2 entries"),
            std::string::npos);
  rs[2] = r;
  rs[2].damping = 0.0f;
  EXPECT_NE(error_text([&] { plan(m, rs, Device::cpu()); }).find("damping 0 is not in (0, 1]"),
            std::string::npos);
  rs[2] = r;
  rs[2].horizon = 0;
  EXPECT_NE(error_text([&] { plan(m, rs, Device::cpu()); }).find("horizon 0"), std::string::npos);
  EXPECT_NE(error_text([] { parse_method("mcts"); }).find("unknown planning method 'mcts'"),
            std::string::npos);
}

}  // namespace
}  // namespace mpe::aif
