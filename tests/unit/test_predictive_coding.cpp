// Predictive coding: energy falls monotonically for small steps, one relaxation step and one
// weight update match a float64 reference, learning lowers the energy, bad input is named.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <mpe/predictive_coding.hpp>

#include "support/errors.hpp"
#include "support/reference.hpp"

namespace mpe::pc {
namespace {

using Mat = std::vector<double>;

// Float64 errors: eps[l], g[l] as [B, n_l]; returns the batch-mean energy.
double ref_errors(const Network& net, const std::vector<Mat>& x, std::int64_t B,
                  std::vector<Mat>& eps, std::vector<Mat>& g) {
  const auto& n = net.sizes();
  const int L = net.num_layers();
  eps.assign(L, {});
  g.assign(L, {});
  double E = 0;
  for (int l = 0; l < L; ++l) {
    const auto W = net.weight(l).to_vector<float>();
    const auto bias = net.bias(l).to_vector<float>();
    eps[l].assign(B * n[l], 0);
    g[l].assign(B * n[l], 0);
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t i = 0; i < n[l]; ++i) {
        double a = bias[i];
        for (std::int64_t j = 0; j < n[l + 1]; ++j)
          a += double(W[i * n[l + 1] + j]) * x[l + 1][b * n[l + 1] + j];
        const double p = net.activation() == Activation::tanh ? std::tanh(a) : a;
        const double e = x[l][b * n[l] + i] - p;
        eps[l][b * n[l] + i] = e;
        g[l][b * n[l] + i] = net.activation() == Activation::tanh ? e * (1 - p * p) : e;
        E += 0.5 * e * e;
      }
  }
  return E / double(B);
}

std::vector<Mat> to_mats(const State& s) {
  std::vector<Mat> m;
  for (const auto& t : s) {
    const auto v = t.to_vector<float>();
    m.emplace_back(v.begin(), v.end());
  }
  return m;
}

State random_state(const Network& net, std::int64_t B, std::uint64_t seed) {
  State s;
  for (std::size_t l = 0; l < net.sizes().size(); ++l) {
    const std::int64_t w = net.sizes()[l];
    s.push_back(Tensor::from_vector(test::random_floats(B * w, -1.f, 1.f, seed + l), {B, w}));
  }
  return s;
}

TEST(PredictiveCoding, EnergyFallsMonotonicallyForSmallSteps) {
  for (Activation act : {Activation::linear, Activation::tanh}) {
    Network net({12, 8, 5, 3}, act, 7);
    const Tensor data = Tensor::from_vector(test::random_floats(6 * 12, -1.f, 1.f, 3), {6, 12});
    State s = initial_state(net, data);
    InferenceOptions opt;
    opt.steps = 200;
    opt.step_size = 0.05f;
    const auto E = infer(net, s, opt);
    ASSERT_EQ(E.size(), 201u);
    for (std::size_t t = 1; t < E.size(); ++t) {
      ASSERT_LE(E[t], E[t - 1] + 1e-6 * E[0]) << "step " << t;
    }
    EXPECT_LT(E.back(), 0.9 * E.front());
    EXPECT_NEAR(energy(net, s), E.back(), 1e-9 * E.front());
    // The data layer is clamped.
    EXPECT_EQ(s[0].to_vector<float>(), data.to_vector<float>());
  }
}

TEST(PredictiveCoding, OneStepMatchesFloat64Reference) {
  for (Activation act : {Activation::linear, Activation::tanh}) {
    Network net({9, 7, 4}, act, 11, 0.6f);
    net.bias(0).copy_from(Tensor::from_vector(test::random_floats(9, -0.3f, 0.3f, 5), {9}));
    const std::int64_t B = 5;
    State s = random_state(net, B, 20);
    const auto x = to_mats(s);
    std::vector<Mat> eps, g;
    const double E0 = ref_errors(net, x, B, eps, g);
    EXPECT_NEAR(energy(net, s), E0, 1e-6 * E0);
    // Reference step: x_k -= eta (eps_k [k < L] - W_{k-1}^T g_{k-1}).
    const float eta = 0.07f;
    const auto& n = net.sizes();
    std::vector<Mat> want = x;
    for (int k = 1; k <= net.num_layers(); ++k) {
      const auto W = net.weight(k - 1).to_vector<float>();
      for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t j = 0; j < n[k]; ++j) {
          double grad = k < net.num_layers() ? eps[k][b * n[k] + j] : 0.0;
          for (std::int64_t i = 0; i < n[k - 1]; ++i)
            grad -= double(W[i * n[k] + j]) * g[k - 1][b * n[k - 1] + i];
          want[k][b * n[k] + j] -= double(eta) * grad;
        }
    }
    InferenceOptions opt;
    opt.steps = 1;
    opt.step_size = eta;
    const auto E = infer(net, s, opt);
    ASSERT_EQ(E.size(), 2u);
    EXPECT_NEAR(E[0], E0, 1e-6 * E0);
    const auto got = to_mats(s);
    for (std::size_t l = 0; l < got.size(); ++l)
      for (std::size_t e = 0; e < got[l].size(); ++e)
        ASSERT_NEAR(got[l][e], want[l][e], 1e-5 * (1 + std::fabs(want[l][e]))) << "layer " << l;

    // One weight update against the reference: W_l += lr/B Σ_b g_l x_{l+1}^T.
    const float lr = 0.3f;
    std::vector<Mat> eps2, g2;
    ref_errors(net, got, B, eps2, g2);
    std::vector<std::vector<float>> W0, b0;
    for (int l = 0; l < net.num_layers(); ++l) {
      W0.push_back(net.weight(l).to_vector<float>());
      b0.push_back(net.bias(l).to_vector<float>());
    }
    update_weights(net, s, lr);
    for (int l = 0; l < net.num_layers(); ++l) {
      const auto W = net.weight(l).to_vector<float>();
      const auto bias = net.bias(l).to_vector<float>();
      for (std::int64_t i = 0; i < n[l]; ++i) {
        double db = 0;
        for (std::int64_t b = 0; b < B; ++b) db += g2[l][b * n[l] + i];
        ASSERT_NEAR(bias[i], b0[l][i] + lr * db / B, 1e-5);
        for (std::int64_t j = 0; j < n[l + 1]; ++j) {
          double dw = 0;
          for (std::int64_t b = 0; b < B; ++b)
            dw += g2[l][b * n[l] + i] * got[l + 1][b * n[l + 1] + j];
          ASSERT_NEAR(W[i * n[l + 1] + j], W0[l][i * n[l + 1] + j] + lr * dw / B, 1e-5)
              << "layer " << l << " (" << i << ", " << j << ")";
        }
      }
    }
  }
}

TEST(PredictiveCoding, LearningLowersTheEnergyAndReconstructs) {
  // Data from a 2-dimensional linear latent: the network should reconstruct it well.
  const std::int64_t B = 32, n0 = 10;
  const auto z = test::random_floats(B * 2, -1.f, 1.f, 41);
  const auto mix = test::random_floats(n0 * 2, -0.5f, 0.5f, 42);
  std::vector<float> d(B * n0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < n0; ++i)
      d[b * n0 + i] = mix[i * 2] * z[b * 2] + mix[i * 2 + 1] * z[b * 2 + 1];
  const Tensor data = Tensor::from_vector(d, {B, n0});
  Network net({n0, 4, 2}, Activation::linear, 3, 0.3f);
  InferenceOptions opt;
  opt.steps = 30;
  opt.step_size = 0.1f;
  double first = 0, last = 0;
  for (int epoch = 0; epoch < 150; ++epoch) {
    State s = initial_state(net, data);
    const auto E = infer(net, s, opt);
    if (epoch == 0) first = E.back();
    last = E.back();
    update_weights(net, s, 0.2f);
  }
  EXPECT_LT(last, 0.1 * first);
  State s = initial_state(net, data);
  opt.steps = 200;
  infer(net, s, opt);
  const auto rec = reconstruct(net, s).to_vector<float>();
  double err = 0, norm = 0;
  for (std::size_t e = 0; e < rec.size(); ++e) {
    err += (rec[e] - d[e]) * (rec[e] - d[e]);
    norm += d[e] * d[e];
  }
  EXPECT_LT(err, 0.1 * norm);
}

TEST(PredictiveCoding, BadInputNamesTheArgument) {
  using test::expect_error;
  expect_error([] { Network({5}); }, ErrorCode::invalid_argument, "at least 2 layers");
  expect_error([] { Network({5, 0}); }, ErrorCode::invalid_argument, "sizes[1] = 0");
  expect_error(
      [] {
        Network({5, 2}, Activation::tanh, 1, -1.0f);
      },
      ErrorCode::invalid_argument, "weight_scale");
  Network net({4, 3, 2});
  expect_error(
      [&] {
        initial_state(net, Tensor::zeros({2, 5}, DType::f32));
      },
      ErrorCode::shape_mismatch, "data must be [B, n_0 = 4]");
  expect_error(
      [&] {
        initial_state(net, Tensor::zeros({2, 4}, DType::f64));
      },
      ErrorCode::dtype_mismatch, "data must be float32");
  State s = initial_state(net, Tensor::zeros({2, 4}, DType::f32));
  InferenceOptions bad;
  bad.step_size = 0.0f;
  expect_error([&] { infer(net, s, bad); }, ErrorCode::invalid_argument, "step_size");
  bad.step_size = 0.1f;
  bad.steps = -1;
  expect_error([&] { infer(net, s, bad); }, ErrorCode::invalid_argument, "steps");
  expect_error([&] { update_weights(net, s, std::nanf("")); }, ErrorCode::invalid_argument,
               "learning_rate");
  State wrong = s;
  wrong[2] = Tensor::zeros({3, 2}, DType::f32);
  expect_error([&] { energy(net, wrong); }, ErrorCode::shape_mismatch, "state[2] must be [B, n_2]");
  wrong.pop_back();
  expect_error([&] { energy(net, wrong); }, ErrorCode::shape_mismatch, "has 2 layers");
  net.weight(1) = Tensor::zeros({3, 3}, DType::f32);
  expect_error([&] { energy(net, s); }, ErrorCode::shape_mismatch, "layer 1 weight");
  expect_error([&] { net.weight(2); }, ErrorCode::invalid_argument, "out of range");
}

}  // namespace
}  // namespace mpe::pc
