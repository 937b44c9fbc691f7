#pragma once
/// @file agents.hpp
/// Active-inference agents (aif-mp.md §6): environments with a simulator and the generative
/// model the agent plans with, exact Bayesian filtering, and a lock-step evaluation that steps
/// many episodes together — one batched filter and one batched planning call per time step.
///
///     auto env = mpe::agents::make_environment("frozen_lake", 7);   // θ layouts from seed 7
///     mpe::agents::EvalOptions opt;
///     opt.method = mpe::aif::Method::aif;
///     opt.episodes = 100;
///     mpe::agents::EvalResult r = mpe::agents::evaluate(*env, opt);
///     std::printf("%.3f ± %.3f\n", r.success_rate, r.success_ci95);
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <mpe/aif.hpp>
#include <mpe/device.hpp>
#include <mpe/engine.hpp>
#include <mpe/tensor.hpp>

namespace mpe::agents {

/// A portable random source (the same numbers on every platform and standard library):
/// SplitMix64 seeding a xoshiro256** generator, doubles from the top 53 bits.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  double uniform();                          ///< in [0, 1)
  std::int64_t below(std::int64_t n);        ///< uniform in [0, n), n >= 1

 private:
  std::uint64_t s_[4];
};

/// What one environment step did.
struct StepResult {
  std::int64_t next_state = 0;
  double reward = 0;
  bool terminated = false;  ///< the next state is terminal (goal, hole, pit, exit, ...)
};

/// An evaluation environment: simulator plus the tensors of its generative model, all over
/// S states, K configurations θ and A actions.
class Environment {
 public:
  virtual ~Environment() = default;
  virtual std::string name() const = 0;
  std::int64_t states() const { return T_.dim(0); }
  std::int64_t thetas() const { return T_.dim(2); }
  std::int64_t actions() const { return T_.dim(3); }
  virtual std::vector<std::string> action_names() const = 0;

  /// p(x_new | x_old, θ, u) [S, S, K, A]: used by the filter, the planner and the simulator.
  const Tensor& T() const { return T_; }
  /// Every observation channel [F, O, S, K] (the filter and observation sampling use them all).
  const Tensor& B() const { return B_; }
  /// The channels the planner sees (aif-mp.md §6.1), as indices into B's first axis.
  const std::vector<std::int64_t>& planning_channels() const { return planning_channels_; }

  /// The planning model for the current beliefs: θ-goal environments return the same model
  /// every time; RockSample's terminal goal is the q(θ)-mixture of per-θ goals (so the model
  /// is made with Model::with_goal, sharing T and B).
  virtual aif::Model planning_model(const std::vector<float>& q_theta) const = 0;

  virtual std::int64_t start_state() const = 0;
  virtual int horizon() const = 0;              ///< H of §6
  virtual int iterations() const = 0;           ///< planning iterations of §6
  virtual int max_steps() const = 0;            ///< episode length limit
  virtual bool receding_horizon() const = 0;    ///< H = min(H, max_steps - steps taken)
  virtual float aif_damping() const { return 0.9f; }

  /// One simulator step from `state` with `action` under the true configuration `theta`.
  virtual StepResult step(std::int64_t state, std::int64_t action, std::int64_t theta,
                          Rng& rng) const = 0;
  /// Whether an episode that ended in `state` (or was truncated there) counts as a success.
  virtual bool success(std::int64_t state, std::int64_t theta) const = 0;
  /// Extra per-episode figures (RockSample: good rocks sampled and present); empty otherwise.
  virtual void episode_extras(std::int64_t final_state, std::int64_t theta,
                              std::vector<double>& out) const {
    (void)final_state;
    (void)theta;
    out.clear();
  }

  /// Samples every channel's outcome at `state` under `theta` (§6.1: independent channels,
  /// inverse CDF in outcome order).
  std::vector<std::int32_t> observe(std::int64_t state, std::int64_t theta, Rng& rng) const;

  /// A text picture of `state` (grid, agent) for --render.
  virtual std::string render(std::int64_t state, std::int64_t theta) const = 0;

 /// T's non-zero entries from state o: [from_offsets()[o], from_offsets()[o+1]) index into
  /// the arrays below (next state, θ, action, probability); the filter walks only these.
  const std::vector<std::int64_t>& from_offsets() const { return from_off_; }
  const std::vector<std::int32_t>& from_next() const { return from_next_; }
  const std::vector<std::int32_t>& from_theta() const { return from_theta_; }
  const std::vector<std::int32_t>& from_action() const { return from_action_; }
  const std::vector<float>& from_prob() const { return from_prob_; }

 protected:
  /// Derived constructors call this once T_ is set.
  void index_transitions();

  Tensor T_, B_;
  std::vector<std::int64_t> planning_channels_;

 private:
  std::vector<std::int64_t> from_off_;
  std::vector<std::int32_t> from_next_, from_theta_, from_action_;
  std::vector<float> from_prob_;
};

/// "frozen_lake" (§6.2), "rocksample" (§6.3) or "wumpus" (§6.4). The seed chooses the θ configurations (e.g. Frozen Lake's hole
/// layouts). Throws Error(invalid_argument) for an unknown name.
std::unique_ptr<Environment> make_environment(const std::string& name, std::uint64_t seed);

/// Names make_environment accepts.
std::vector<std::string> environment_names();

/// Frozen Lake's θ: the 15 hole layouts (each two cells of 1..14), chosen as §6.2 says.
std::vector<std::vector<int>> frozen_lake_layouts(std::uint64_t seed);

/// Exact Bayesian update of q(x), q(θ) after `action` (-1: none yet, uniform over actions) and
/// the outcomes `y` of every channel of B (aif-mp.md §6.1, with its 1e-12 guards).
void filter(const Environment& env, std::int64_t action, const std::vector<std::int32_t>& y,
            std::vector<float>& q_x, std::vector<float>& q_theta);

/// How an evaluation runs.
struct EvalOptions {
  aif::Method method = aif::Method::aif;
  aif::ThetaMode theta = aif::ThetaMode::fixed;
  int episodes = 100;
  std::uint64_t seed = 1;  ///< episode e draws its θ* and its randomness from (seed, e)
  int first_episode = 0;   ///< run episodes first_episode .. first_episode + episodes - 1
  Device device = Device::cpu();
  /// Plan through this scheduler (its devices and batching) instead of direct calls on `device`;
  /// each step's requests are submitted together and batched by the engine.
  Engine* engine = nullptr;
  int iterations = 0;      ///< 0: the environment's (§6)
  int horizon = 0;         ///< 0: the environment's (§6)
  /// Early stop of each plan (PlanRequest::tolerance): it stops once no channel changes by more
  /// than this (in probability) between iterations; 0 runs every iteration.
  float tolerance = 0.0f;
  /// Also plan every request with all iterations (tolerance 0) and count how often the chosen
  /// action differs from the early-stopped plan's (EvalResult::actions_checked/_differing).
  bool check_tolerance = false;
  /// Called after every lock-step time step with (steps taken, episodes still running).
  std::function<void(int, int)> progress;
  /// Called for episode `render_episode` (if >= 0) after every step, with a picture.
  int render_episode = -1;
  std::function<void(const std::string&)> render;
};

/// Results over all episodes.
struct EvalResult {
  int episodes = 0;
  double success_rate = 0, success_ci95 = 0;  ///< 1.96·√(p(1−p)/n)
  double mean_reward = 0, reward_ci95 = 0;
  double mean_steps = 0;                      ///< actions taken / episodes
  double retrieval = -1;                      ///< RockSample: good rocks sampled / present
  double wall_seconds = 0, episodes_per_second = 0;
  std::int64_t plans = 0;                     ///< planning requests made
  double mean_iterations = 0;                 ///< iterations run per plan (early stop: fewer)
  int max_iterations = 0;
  /// With check_tolerance: plans compared with their all-iterations twin, and how many of
  /// them chose another action.
  std::int64_t actions_checked = 0, actions_differing = 0;
  /// Over the differing ones: the largest gap, in the all-iterations plan's own action
  /// distribution, between its choice and the early-stopped plan's choice (a near-tie is ~0).
  double differing_gap_max = 0;
  std::vector<std::vector<std::int64_t>> actions;  ///< per episode, the actions taken
  std::vector<int> successes;                      ///< per episode, 0 or 1
  std::vector<double> rewards;                     ///< per episode, the total reward
  std::vector<int> steps_taken;                    ///< per episode, the actions taken
  /// Per episode, RockSample's good rocks sampled and present (0 elsewhere).
  std::vector<double> retrieved, retrievable;
  std::int64_t iterations_total = 0;               ///< planning iterations over all plans
};

/// Fills the statistics of `r` (success rate, rewards and their intervals, mean steps,
/// retrieval, mean iterations, episodes per second) from its per-episode vectors, its
/// counters and wall_seconds, summing in episode order. evaluate() ends with it; a sharded
/// run concatenates its ranks' episodes in index order and calls it, giving the same numbers.
void summarize(EvalResult& r);

/// Runs `episodes` episodes in lock-step: every time step one batched filter and one batched
/// planning call for the episodes still running.
EvalResult evaluate(const Environment& env, const EvalOptions& options);

}  // namespace mpe::agents
