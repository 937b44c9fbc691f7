#pragma once
/// @file predictive_coding.hpp
/// Predictive coding: a hierarchy of dense layers in which each layer predicts the one below,
/// prediction errors travel up, and the latent states relax by gradient steps on the total
/// squared prediction error; optionally followed by local (per-layer) weight updates.
///
/// Layers 0 .. L have sizes n_0 .. n_L; layer 0 holds the data (clamped), layers 1 .. L are
/// latent. For l = 0 .. L-1 and every sample of the batch:
///
///     a_l = W_l x_{l+1} + b_l        (W_l is [n_l, n_{l+1}], b_l is [n_l])
///     ε_l = x_l − f(a_l)
///     E   = ½ Σ_l ‖ε_l‖²
///
/// A relaxation step moves every latent layer k = 1 .. L at once against the gradient
///
///     ∂E/∂x_k = ε_k [k < L] − W_{k-1}ᵀ (ε_{k-1} ⊙ f'(a_{k-1})),   x_k ← x_k − step_size · ∂E/∂x_k
///
/// and a weight update is W_l += learning_rate · mean_b (ε_l ⊙ f'(a_l)) x_{l+1}ᵀ (and the same for
/// b_l without x): each layer's update uses only its own error and the layer above. This version
/// runs on the CPU (float32 storage, OpenMP over the batch).

#include <cstdint>
#include <vector>

#include <mpe/tensor.hpp>

namespace mpe::pc {

/// The nonlinearity f of the predictions.
enum class Activation {
  linear,  ///< f(a) = a
  tanh     ///< f(a) = tanh(a)
};

/// Weights and biases of a predictive-coding hierarchy.
class Network {
 public:
  /// A network with layer sizes `sizes` (data layer first, at least two entries, all >= 1),
  /// weights uniform in ±weight_scale (0 means 1/sqrt(n_{l+1})) from `seed`, biases zero.
  /// Throws Error(invalid_argument) for a bad size list or scale.
  explicit Network(std::vector<std::int64_t> sizes, Activation activation = Activation::tanh,
                   std::uint64_t seed = 1, float weight_scale = 0.0f);

  /// n_0 .. n_L.
  const std::vector<std::int64_t>& sizes() const noexcept { return sizes_; }
  /// L: the number of weight layers (sizes().size() - 1).
  int num_layers() const noexcept { return static_cast<int>(weights_.size()); }
  /// The activation f.
  Activation activation() const noexcept { return activation_; }
  /// W_l, float32 [n_l, n_{l+1}] on the CPU (writable: set weights by hand or from a file).
  Tensor& weight(int l);
  const Tensor& weight(int l) const;
  /// b_l, float32 [n_l] on the CPU.
  Tensor& bias(int l);
  const Tensor& bias(int l) const;

 private:
  std::vector<std::int64_t> sizes_;
  Activation activation_;
  std::vector<Tensor> weights_;
  std::vector<Tensor> biases_;
};

/// The activities of every layer for a batch: x[l] is float32 [B, n_l] on the CPU; x[0] is the
/// data and never changes during inference.
using State = std::vector<Tensor>;

/// Options of infer().
struct InferenceOptions {
  /// Relaxation steps (>= 0).
  int steps = 50;
  /// Gradient step on the latent states (> 0, finite). Small steps (below 1 / the largest
  /// curvature of E) make the energy fall monotonically.
  float step_size = 0.1f;
};

/// A state for `data` (float32 [B, n_0] on the CPU): x[0] = a copy of the data, latents zero.
/// Throws Error(shape_mismatch / dtype_mismatch / not_supported for a device tensor).
State initial_state(const Network& net, const Tensor& data);

/// E averaged over the batch: (1/B) Σ_b ½ Σ_l ‖ε_l‖² (0 for an empty batch), summed in
/// float64. Throws Error(shape_mismatch) when the state does not fit the network.
double energy(const Network& net, const State& state);

/// Runs options.steps relaxation steps on the latent layers of `state` in place and returns the
/// energy before the first step and after each step (steps + 1 values).
std::vector<double> infer(const Network& net, State& state, const InferenceOptions& options = {});

/// One local weight update from a (relaxed) state: W_l += learning_rate · mean_b g_l x_{l+1}ᵀ and
/// b_l += learning_rate · mean_b g_l with g_l = ε_l ⊙ f'(a_l). Throws Error(invalid_argument)
/// for a learning rate that is negative or not finite.
void update_weights(Network& net, const State& state, float learning_rate);

/// The network's reconstruction of the data layer from a state: f(W_0 x_1 + b_0), [B, n_0].
Tensor reconstruct(const Network& net, const State& state);

}  // namespace mpe::pc
