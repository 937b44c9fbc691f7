// Predictive coding: the network (sizes, weights, biases) and the checks of states.
#include <cmath>

#include <fmt/format.h>

#include "pc/pc_detail.hpp"
#include "splitmix.hpp"

namespace mpe::pc {

namespace {
// splitmix64, so initial weights are the same on every platform.
float uniform_pm1(std::uint64_t& s) {  // in [-1, 1)
  return static_cast<float>(static_cast<double>(mpe::detail::splitmix64(s) >> 11) * 0x1.0p-52 - 1.0);
}

void check_layer(int l, int count, const char* what) {
  if (l < 0 || l >= count) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("predictive coding: {} index {} out of range [0, {})", what, l, count));
  }
}
}  // namespace

Network::Network(std::vector<std::int64_t> sizes, Activation activation, std::uint64_t seed,
                 float weight_scale)
    : sizes_(std::move(sizes)), activation_(activation) {
  if (sizes_.size() < 2) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("predictive coding: sizes needs at least 2 layers (data and one "
                            "latent), got {}",
                            sizes_.size()));
  }
  for (std::size_t l = 0; l < sizes_.size(); ++l) {
    if (sizes_[l] < 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("predictive coding: sizes[{}] = {} must be >= 1", l, sizes_[l]));
    }
  }
  if (!std::isfinite(weight_scale) || weight_scale < 0.0f) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("predictive coding: weight_scale must be finite and >= 0, got {}",
                            weight_scale));
  }
  if (activation_ != Activation::linear && activation_ != Activation::tanh) {
    throw Error(ErrorCode::invalid_argument, "predictive coding: unknown activation");
  }
  std::uint64_t state = seed;
  for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
    const std::int64_t rows = sizes_[l], cols = sizes_[l + 1];
    const float s = weight_scale > 0.0f ? weight_scale : 1.0f / std::sqrt(static_cast<float>(cols));
    std::vector<float> w(static_cast<std::size_t>(rows * cols));
    for (float& x : w) x = s * uniform_pm1(state);
    weights_.push_back(Tensor::from_vector(w, {rows, cols}));
    biases_.push_back(Tensor::zeros({rows}, DType::f32));
  }
}

Tensor& Network::weight(int l) {
  check_layer(l, num_layers(), "weight");
  return weights_[static_cast<std::size_t>(l)];
}
const Tensor& Network::weight(int l) const {
  check_layer(l, num_layers(), "weight");
  return weights_[static_cast<std::size_t>(l)];
}
Tensor& Network::bias(int l) {
  check_layer(l, num_layers(), "bias");
  return biases_[static_cast<std::size_t>(l)];
}
const Tensor& Network::bias(int l) const {
  check_layer(l, num_layers(), "bias");
  return biases_[static_cast<std::size_t>(l)];
}

namespace detail {

std::int64_t check_state(const Network& net, const State& state, const char* what) {
  const auto& n = net.sizes();
  if (state.size() != n.size()) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("predictive coding: {} has {} layers, the network {}", what,
                            state.size(), n.size()));
  }
  for (int l = 0; l < net.num_layers(); ++l) {  // weights may have been replaced by hand
    const Tensor& w = net.weight(l);
    const Tensor& b = net.bias(l);
    if (!w.defined() || !w.is_cpu() || w.dtype() != DType::f32 ||
        w.shape() != Shape{n[l], n[l + 1]} || !b.defined() || !b.is_cpu() ||
        b.dtype() != DType::f32 || b.shape() != Shape{n[l]}) {
      throw Error(
          ErrorCode::shape_mismatch,
          fmt::format("predictive coding: layer {} weight must be float32 {} and bias "
                      "float32 {} on the CPU, got {} and {}",
                      l, shape_str({n[l], n[l + 1]}), shape_str({n[l]}),
                      w.defined() ? w.str() : "undefined", b.defined() ? b.str() : "undefined"));
    }
  }
  const std::int64_t batch = state[0].defined() && state[0].rank() == 2 ? state[0].dim(0) : -1;
  for (std::size_t l = 0; l < state.size(); ++l) {
    const Tensor& x = state[l];
    if (!x.defined()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("predictive coding: {}[{}] is an undefined tensor", what, l));
    }
    if (!x.is_cpu()) {
      throw Error(ErrorCode::not_supported,
                  fmt::format("predictive coding: {}[{}] is on {}; this version runs on the CPU",
                              what, l, x.device().str()));
    }
    if (x.dtype() != DType::f32) {
      throw Error(ErrorCode::dtype_mismatch,
                  fmt::format("predictive coding: {}[{}] must be float32, got {}", what, l,
                              dtype_name(x.dtype())));
    }
    if (x.shape() != Shape{batch, n[l]}) {
      throw Error(ErrorCode::shape_mismatch,
                  fmt::format("predictive coding: {}[{}] must be [B, n_{}] = {}, got {}", what, l,
                              l, shape_str({batch, n[l]}), shape_str(x.shape())));
    }
  }
  return batch;
}

}  // namespace detail
}  // namespace mpe::pc
