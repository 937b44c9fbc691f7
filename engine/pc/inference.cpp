// Predictive coding: errors, energy, relaxation of the latent states, local weight updates.
// Dense per-sample products (n_l × n_{l+1} matrices are small); OpenMP over the batch.
#include <cmath>

#include <fmt/format.h>

#include "pc/pc_detail.hpp"

namespace mpe::pc {

namespace {
// Below this many multiply-adds per call one thread is faster than waking a team.
constexpr double kParallelWork = 1 << 16;

double layer_work(const Network& net, std::int64_t batch) {
  double w = 0;
  const auto& n = net.sizes();
  for (std::size_t l = 0; l + 1 < n.size(); ++l) w += double(n[l]) * double(n[l + 1]);
  return w * double(batch);
}

void check_data(const Network& net, const Tensor& data) {
  if (!data.defined()) {
    throw Error(ErrorCode::invalid_argument, "predictive coding: data is an undefined tensor");
  }
  if (!data.is_cpu()) {
    throw Error(ErrorCode::not_supported,
                fmt::format("predictive coding: data is on {}; this version runs on the CPU",
                            data.device().str()));
  }
  if (data.dtype() != DType::f32) {
    throw Error(
        ErrorCode::dtype_mismatch,
        fmt::format("predictive coding: data must be float32, got {}", dtype_name(data.dtype())));
  }
  if (data.rank() != 2 || data.dim(1) != net.sizes()[0]) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("predictive coding: data must be [B, n_0 = {}], got {}", net.sizes()[0],
                            shape_str(data.shape())));
  }
}
}  // namespace

namespace detail {

void compute_errors(const Network& net, const State& state, Errors& out) {
  const int L = net.num_layers();
  const auto& n = net.sizes();
  const std::int64_t B = state[0].dim(0);
  out.eps.resize(static_cast<std::size_t>(L));
  out.g.resize(static_cast<std::size_t>(L));
  for (int l = 0; l < L; ++l) {
    out.eps[l].resize(static_cast<std::size_t>(B * n[l]));
    out.g[l].resize(static_cast<std::size_t>(B * n[l]));
  }
  out.sample_energy.assign(static_cast<std::size_t>(B), 0.0);
  const bool tanh_act = net.activation() == Activation::tanh;
#pragma omp parallel for schedule(static) if (layer_work(net, B) > kParallelWork)
  for (std::int64_t b = 0; b < B; ++b) {
    double e_sum = 0;
    for (int l = 0; l < L; ++l) {
      const std::int64_t rows = n[l], cols = n[l + 1];
      const float* W = net.weight(l).data<float>();
      const float* bias = net.bias(l).data<float>();
      const float* above = state[l + 1].data<float>() + b * cols;
      const float* x = state[l].data<float>() + b * rows;
      float* eps = out.eps[l].data() + b * rows;
      float* g = out.g[l].data() + b * rows;
      for (std::int64_t i = 0; i < rows; ++i) {
        const float* wr = W + i * cols;
        float a = 0.0f;
        for (std::int64_t j = 0; j < cols; ++j) a += wr[j] * above[j];
        a += bias[i];
        const float pred = tanh_act ? std::tanh(a) : a;
        const float e = x[i] - pred;
        eps[i] = e;
        g[i] = tanh_act ? e * (1.0f - pred * pred) : e;
        e_sum += 0.5 * double(e) * double(e);
      }
    }
    out.sample_energy[static_cast<std::size_t>(b)] = e_sum;
  }
}

double mean_energy(const Errors& e) {
  if (e.sample_energy.empty()) return 0.0;
  double s = 0;
  for (double v : e.sample_energy) s += v;
  return s / double(e.sample_energy.size());
}

}  // namespace detail

State initial_state(const Network& net, const Tensor& data) {
  check_data(net, data);
  State s;
  s.push_back(data.clone());
  for (std::size_t l = 1; l < net.sizes().size(); ++l) {
    s.push_back(Tensor::zeros({data.dim(0), net.sizes()[l]}, DType::f32));
  }
  return s;
}

double energy(const Network& net, const State& state) {
  detail::check_state(net, state, "state");
  detail::Errors e;
  detail::compute_errors(net, state, e);
  return detail::mean_energy(e);
}

std::vector<double> infer(const Network& net, State& state, const InferenceOptions& options) {
  const std::int64_t B = detail::check_state(net, state, "state");
  if (options.steps < 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("predictive coding: steps must be >= 0, got {}", options.steps));
  }
  if (!(options.step_size > 0.0f) || !std::isfinite(options.step_size)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("predictive coding: step_size must be finite and > 0, got {}",
                            options.step_size));
  }
  const int L = net.num_layers();
  const auto& n = net.sizes();
  const float eta = options.step_size;
  std::vector<double> energies;
  energies.reserve(static_cast<std::size_t>(options.steps) + 1);
  detail::Errors e;
  for (int step = 0; step <= options.steps; ++step) {
    detail::compute_errors(net, state, e);
    energies.push_back(detail::mean_energy(e));
    if (step == options.steps) break;
      // All gradients come from the errors of the same state: a true gradient step on E.
#pragma omp parallel for schedule(static) if (layer_work(net, B) > kParallelWork)
    for (std::int64_t b = 0; b < B; ++b) {
      for (int k = 1; k <= L; ++k) {
        const std::int64_t width = n[k], below = n[k - 1];
        float* x = state[k].data<float>() + b * width;
        const float* W = net.weight(k - 1).data<float>();  // [below, width]
        const float* g = e.g[k - 1].data() + b * below;
        std::vector<float> grad(static_cast<std::size_t>(width), 0.0f);
        if (k < L) {
          const float* eps = e.eps[k].data() + b * width;
          for (std::int64_t j = 0; j < width; ++j) grad[j] = eps[j];
        }
        for (std::int64_t i = 0; i < below; ++i) {
          const float gi = g[i];
          const float* wr = W + i * width;
          for (std::int64_t j = 0; j < width; ++j) grad[j] -= wr[j] * gi;
        }
        for (std::int64_t j = 0; j < width; ++j) x[j] -= eta * grad[j];
      }
    }
  }
  return energies;
}

void update_weights(Network& net, const State& state, float learning_rate) {
  const std::int64_t B = detail::check_state(net, state, "state");
  if (!(learning_rate >= 0.0f) || !std::isfinite(learning_rate)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("predictive coding: learning_rate must be finite and >= 0, got {}",
                            learning_rate));
  }
  if (B == 0) return;
  detail::Errors e;
  detail::compute_errors(net, state, e);
  const auto& n = net.sizes();
  const float scale = learning_rate / static_cast<float>(B);
  for (int l = 0; l < net.num_layers(); ++l) {
    const std::int64_t rows = n[l], cols = n[l + 1];
    float* W = net.weight(l).data<float>();
    float* bias = net.bias(l).data<float>();
    const float* above = state[l + 1].data<float>();
    const float* g = e.g[l].data();
#pragma omp parallel for schedule(static) if (double(rows * cols) * double(B) > kParallelWork)
    for (std::int64_t i = 0; i < rows; ++i) {
      std::vector<float> dw(static_cast<std::size_t>(cols), 0.0f);
      float db = 0.0f;
      for (std::int64_t b = 0; b < B; ++b) {
        const float gi = g[b * rows + i];
        const float* xa = above + b * cols;
        for (std::int64_t j = 0; j < cols; ++j) dw[j] += gi * xa[j];
        db += gi;
      }
      float* wr = W + i * cols;
      for (std::int64_t j = 0; j < cols; ++j) wr[j] += scale * dw[j];
      bias[i] += scale * db;
    }
  }
}

Tensor reconstruct(const Network& net, const State& state) {
  const std::int64_t B = detail::check_state(net, state, "state");
  const std::int64_t rows = net.sizes()[0], cols = net.sizes()[1];
  Tensor out = Tensor::empty({B, rows}, DType::f32);
  const float* W = net.weight(0).data<float>();
  const float* bias = net.bias(0).data<float>();
  const float* above = state[1].data<float>();
  float* y = out.data<float>();
  const bool tanh_act = net.activation() == Activation::tanh;
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < rows; ++i) {
      float a = 0.0f;
      for (std::int64_t j = 0; j < cols; ++j) a += W[i * cols + j] * above[b * cols + j];
      a += bias[i];
      y[b * rows + i] = tanh_act ? std::tanh(a) : a;
    }
  return out;
}

}  // namespace mpe::pc
