#pragma once
/// @file aif.hpp
/// AIF-MP: active-inference message passing for planning in discrete POMDPs (spec:
/// aif-mp.md §1–5, 7, 8). A planning call runs I iterations of forward/backward message
/// passing over a horizon of H steps with four families of channels (policy r_u, predictive
/// dynamics r_x, observation r_c, marginal observation r_m) and returns the action
/// distribution for the first step. θ (the unknown environment configuration) stays fixed at
/// the request's belief q(θ) during planning.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <mpe/device.hpp>
#include <mpe/tensor.hpp>

namespace mpe::aif {

/// Which channels a planning call updates (aif-mp.md §2).
enum class Method {
  bp,   ///< none: plain sum-product (marginal inference)
  vbp,  ///< r_u: cross-entropy planning
  rm,   ///< r_u and r_x: risk-minimising planning
  aif   ///< r_u, r_x, r_c, r_m and message damping: full expected-free-energy planning
};
/// "bp", "vbp", "rm" or "aif".
const char* method_name(Method m) noexcept;
/// Parses a method name; throws Error(invalid_argument) otherwise.
Method parse_method(const std::string& name);

/// How the observation side is computed (aif-mp.md §4, notes).
enum class ObservationPath {
  dense,       ///< observation channels per time slice, updated inside every iteration
  precomputed  ///< observation channels iterated alone first, then one local term for all t
};

/// How a channel moves toward its new value.
enum class DampingKind {
  geometric,  ///< (1-λ)·log old + λ·log new, renormalised (the reference code)
  arithmetic  ///< (1-λ)·old + λ·new in probability space (the paper's text)
};

/// How the dynamics side is stored (aif-mp.md §4 cost note; issue 3's sparse path).
enum class DynamicsLayout {
  automatic,  ///< sparse when at most a quarter of T's (x_old, x_new, u) entries are non-zero
              ///< (dense for rm/aif with arithmetic damping, see `sparse`)
  dense,      ///< base, r_x and the dynamics kernel over all S·S·A entries
  sparse      ///< the same only on the support of T; same numbers, O(H·nnz·I) work. Not with
              ///< arithmetic damping for rm/aif: there r_x keeps probability on T's zeros,
              ///< which the support leaves out (a request asking for it is rejected)
};

/// How θ (the unknown environment configuration) enters a planning call.
enum class ThetaMode {
  fixed,  ///< θ held at the request's q(θ) (aif-mp.md §4; the only mode of `aif`)
  loopy   ///< θ a loopy variable with cavity messages: `bp`, `vbp`, `rm` as published
          ///< (aif-mp-baselines.md)
};

/// "fixed" or "loopy".
const char* theta_mode_name(ThetaMode m) noexcept;

/// Parses a θ mode name; throws Error(invalid_argument) otherwise.
ThetaMode parse_theta_mode(const std::string& name);

/// What the planner derives from T once (its support as a sparse structure); internal.
struct ModelSupport;
/// A model's tensors uploaded to one device, cached with the model; internal.
struct DeviceDynamics;

/// The kind of goal a model carries.
enum class GoalKind {
  terminal,  ///< preferred final state p̂(x_H), [S]
  theta      ///< per-step preference C(x, θ), normalised over x for each θ, [S, K]
};

/// A generative model, validated on construction. All tensors are float32 on the host:
/// - T [S_new, S_old, K, A]: p(x_new | x_old, θ, u), sums to 1 over S_new;
/// - B [F, O, S, K]: p(y_f | x, θ), sums to 1 over O (pad unused outcomes with 0);
/// - action prior [A]: non-negative weights (normalised internally);
/// - goal: terminal [S] (sums to 1) or θ-goal C [S, K] (sums to 1 over S for each θ).
/// Violations throw Error(invalid_argument / shape_mismatch) naming the tensor, the index and
/// the sum found. Sums must be 1 within 1e-4.
class Model {
 public:
  /// A model whose goal is a preferred final state.
  static Model with_terminal_goal(const Tensor& T, const Tensor& B, const Tensor& action_prior,
                                  const Tensor& goal);
  /// A model whose goal is a per-step, θ-dependent state preference C[S, K].
  static Model with_theta_goal(const Tensor& T, const Tensor& B, const Tensor& action_prior,
                               const Tensor& C);

  std::int64_t states() const { return S_; }          ///< S
  std::int64_t thetas() const { return K_; }          ///< K
  std::int64_t actions() const { return A_; }         ///< A
  std::int64_t modalities() const { return F_; }      ///< F
  std::int64_t outcomes() const { return O_; }        ///< O
  GoalKind goal_kind() const { return goal_kind_; }   ///< terminal or θ-goal
  const Tensor& T() const { return T_; }              ///< [S, S, K, A]
  const Tensor& B() const { return B_; }              ///< [F, O, S, K]
  const Tensor& action_prior() const { return pu_; }  ///< [A], normalised
  const Tensor& goal() const { return goal_; }        ///< [S] or [S, K]
  /// Reads a model from a JSON file (format: docs/aif-model-format.md; any tensor may be the
  /// name of a .npy file instead of nested lists), or from a folder holding T.npy, B.npy,
  /// action_prior.npy and goal.npy (terminal goal) or C.npy (θ-goal). Throws
  /// Error(io_error) when the file cannot be read and Error(parse_error) naming the file and
  /// the field for malformed content; the tensors are then validated as above.
  static Model load(const std::string& path);

  /// True when `other` has the same S, K, A, F, O and goal kind (can share a batch).
  bool same_shape(const Model& other) const;

  /// This model with another goal of the same kind and shape (validated like the original).
  /// T, B and the action prior are shared, not copied or checked again, and so is everything
  /// derived from T (its sparsity structure, its copies on each CUDA device). Agents whose
  /// goal follows their belief make one such model per episode.
  Model with_goal(const Tensor& goal) const;

 private:
  friend const ModelSupport& model_support(const Model& m);
  friend const DeviceDynamics& device_dynamics(const Model& m, Device dev, bool sparse);
  Model() = default;
  static Model make(const Tensor& T, const Tensor& B, const Tensor& action_prior,
                    const Tensor& goal, GoalKind kind);
  std::int64_t S_ = 0, K_ = 0, A_ = 0, F_ = 0, O_ = 0;
  GoalKind goal_kind_ = GoalKind::terminal;
  Tensor T_, B_, pu_, goal_;
  std::shared_ptr<ModelSupport> support_;  // derived from T, computed on first use
};

/// One planning problem: beliefs and the options of the call.
struct PlanRequest {
  std::vector<float> q0;       ///< current state belief q(x), [S], sums to 1
  std::vector<float> q_theta;  ///< current θ belief q(θ), [K], sums to 1
  int horizon = 5;             ///< H ≥ 1 steps ahead
  int iterations = 10;         ///< I ≥ 1 message-passing iterations
  float damping = 0.5f;        ///< λ in (0, 1]
  Method method = Method::aif;
  ObservationPath observation_path = ObservationPath::dense;
  DampingKind damping_kind = DampingKind::geometric;
  DynamicsLayout dynamics = DynamicsLayout::automatic;
  /// Stop early once the largest change of any updated channel entry, measured on
  /// probabilities (|e^new - e^old|), is below this, after at least two iterations; 0 runs all
  /// iterations.
  float tolerance = 0.0f;
  /// θ fixed at q_theta (any method) or loopy (bp, vbp, rm only).
  ThetaMode theta = ThetaMode::fixed;
  /// Fill Plan::log_r_x and Plan::log_r_c. They hold H·S²·A and (H+1)·F·O·S·K floats per
  /// problem; agents that only act on action_dist turn this off.
  bool return_channels = true;
};

/// What a planning call returns for one problem (host tensors, float32, log values are natural
/// logarithms). log_r_x and log_r_c stay empty when the request's return_channels is false.
struct Plan {
  std::vector<float> action_dist;  ///< p(u_0), [A], sums to 1; act with its argmax
  Tensor q_u;                      ///< action marginals for every step, [H, A]
  Tensor log_r_x;                  ///< predictive dynamics channel, [H, S_old, S_new, A]
                                   ///< (sparse layout: LOG_ZERO off the support of T)
  Tensor log_r_c;                  ///< observation channel, [H+1, F, O, S, K] (dense path only)
  int iterations_run = 0;          ///< iterations performed (fewer with early stopping)
  bool sparse_dynamics = false;    ///< whether the sparse layout was used
  float max_change = 0.0f;         ///< largest channel change (probability) in the last iteration
};

/// Checks one request against a model (sizes, sums, ranges) as plan() does; throws
/// Error(invalid_argument) naming the field.
void validate_request(const Model& model, const PlanRequest& request);

/// True when two requests can be planned in one call (equal horizon, iterations, damping,
/// method, paths, tolerance, θ mode and outputs).
bool same_options(const PlanRequest& a, const PlanRequest& b);

/// Working memory of one request while it is planned, in bytes: its inputs, outputs and kernel
/// workspace with the dense dynamics layout (the sparse one needs less). The model's own tensors
/// (T, B, ...) are not counted: they are shared by every request of the model. The scheduler's
/// memory budget (EngineOptions::memory_budget) counts this.
std::size_t working_bytes(const Model& model, const PlanRequest& request);

/// Reads planning requests from a JSON file: one request object, or {"requests": [...]}
/// (format: docs/aif-model-format.md). Fields left out keep PlanRequest's defaults.
std::vector<PlanRequest> load_requests(const std::string& path);

/// Plans every request with one shared model; the device is the default (MPE_DEVICE / auto)
/// unless given. On a CUDA device a model's T, B and action prior are uploaded on first use and
/// kept with the model (and its with_goal copies) until the last copy is destroyed. Requests are
/// checked first (sizes, sums, ranges); a bad one throws
/// Error(invalid_argument) naming its index and field, and nothing is computed.
std::vector<Plan> plan(const Model& model, const std::vector<PlanRequest>& requests);
std::vector<Plan> plan(const Model& model, const std::vector<PlanRequest>& requests, Device device);
/// Plans request i with model i; all models must have the same shape (Model::same_shape).
std::vector<Plan> plan(const std::vector<Model>& models, const std::vector<PlanRequest>& requests,
                       Device device);

}  // namespace mpe::aif
