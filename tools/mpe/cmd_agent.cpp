// mpe agent: active-inference agents on the evaluation environments of aif-mp.md §6, many
// episodes stepped in lock-step (one batched filter and planning call per time step).
#include <cstdio>

#include <fmt/format.h>
#include <mpe/agents.hpp>
#include <mpe/dist_batches.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "ranks.hpp"

namespace mpe::cli {

namespace {
// Early stop of each plan (bench/NOTES.md, "AIF-MP agents: early stopping"): on the agents' own
// requests it chose the action the full 400 iterations choose, at a tenth of the iterations.
constexpr float kDefaultTolerance = 1e-2f;

struct AgentOptions {
  std::string env = "frozen_lake";
  std::string method = "aif";
  std::string theta = "auto";
  int episodes = 20;
  std::uint64_t seed = 1;
  std::string device = "auto";
  int iterations = 0;
  float tolerance = kDefaultTolerance;
  bool check_tolerance = false;
  int horizon = 0;
  int render = -1;
  bool json = false;
  bool quiet = false;
  bool direct = false;
};

void run_agent(const AgentOptions& o) {
  // Under mpirun the episodes are split over the ranks and the results gathered (rank 0 prints).
  const auto comm = dist::world();
  const bool root = comm->rank() == 0;
  const auto env = agents::make_environment(o.env, o.seed);
  agents::EvalOptions e;
  e.method = aif::parse_method(o.method);
  // auto: the published forms — the baselines with θ loopy, aif with θ fixed.
  const std::string theta = o.theta != "auto" ? o.theta : (o.method == "aif" ? "fixed" : "loopy");
  e.theta = aif::parse_theta_mode(theta);
  e.episodes = o.episodes;
  e.seed = o.seed;
  e.device = rank_device(o.device, *comm);
  // Planning goes through the scheduler: each step's requests are batched on the device(s).
  EngineOptions eo;
  eo.device = e.device.str();
  eo.max_batch = 256;
  eo.max_delay = std::chrono::microseconds(200);
  Engine engine(eo);
  if (!o.direct) e.engine = &engine;
  e.iterations = o.iterations;
  e.tolerance = o.tolerance;
  e.check_tolerance = o.check_tolerance;
  e.horizon = o.horizon;
  if (!o.quiet && root) {
    e.progress = [&o](int step, int left) {
      std::fprintf(stderr, "\r[mpe agent] step %d: %d of %d episodes running   ", step, left,
                   o.episodes);
      if (left == 0) std::fputc('\n', stderr);
      std::fflush(stderr);
    };
  }
  if (o.render >= 0) {
    e.render_episode = o.render;
    e.render = [](const std::string& picture) { std::fprintf(stderr, "\n%s", picture.c_str()); };
  }
  const int I = o.iterations > 0 ? o.iterations : env->iterations();
  const int H = o.horizon > 0 ? o.horizon : env->horizon();
  const agents::EvalResult r =
      comm->size() > 1 ? dist::evaluate(*comm, *env, e) : agents::evaluate(*env, e);
  if (!root) return;
  if (!o.quiet && !o.direct) {
    std::fprintf(stderr, "[mpe agent] engine: %s\n", engine.stats().str().c_str());
  }
  if (o.json) {
    nlohmann::json j;
    j["env"] = o.env;
    j["method"] = o.method;
    j["theta"] = theta;
    j["episodes"] = r.episodes;
    j["seed"] = o.seed;
    j["device"] = e.device.str();
    j["iterations"] = I;
    j["tolerance"] = o.tolerance;
    j["horizon"] = H;
    j["plans"] = r.plans;
    j["mean_iterations"] = r.mean_iterations;
    j["max_iterations"] = r.max_iterations;
    if (o.check_tolerance) {
      j["actions_checked"] = r.actions_checked;
      j["actions_differing"] = r.actions_differing;
      j["differing_gap_max"] = r.differing_gap_max;
    }
    j["success_rate"] = r.success_rate;
    j["success_ci95"] = r.success_ci95;
    j["mean_reward"] = r.mean_reward;
    j["reward_ci95"] = r.reward_ci95;
    j["mean_steps"] = r.mean_steps;
    if (r.retrieval >= 0) j["retrieval"] = r.retrieval;
    if (comm->size() > 1) j["ranks"] = comm->size();
    j["wall_seconds"] = r.wall_seconds;
    j["episodes_per_second"] = r.episodes_per_second;
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s, method %s (θ %s), %d episodes, seed %llu, %s, H=%d, I=%d, tolerance %g\n",
              o.env.c_str(), o.method.c_str(), theta.c_str(), r.episodes,
              static_cast<unsigned long long>(o.seed), e.device.str().c_str(), H, I,
              static_cast<double>(o.tolerance));
  std::printf("  success rate   %.3f ± %.3f (95%%)\n", r.success_rate, r.success_ci95);
  std::printf("  mean reward    %.3f ± %.3f\n", r.mean_reward, r.reward_ci95);
  if (r.retrieval >= 0) std::printf("  retrieval      %.3f\n", r.retrieval);
  std::printf("  mean steps     %.2f\n", r.mean_steps);
  std::printf("  iterations     %.1f per plan (max %d) over %lld plans\n", r.mean_iterations,
              r.max_iterations, static_cast<long long>(r.plans));
  if (o.check_tolerance) {
    std::printf("  vs all %d iterations: %lld of %lld actions differ (largest gap %.2g)\n", I,
                static_cast<long long>(r.actions_differing),
                static_cast<long long>(r.actions_checked), r.differing_gap_max);
  }
  std::printf("  wall time      %.2f s (%.2f episodes/s)%s\n", r.wall_seconds,
              r.episodes_per_second,
              comm->size() > 1 ? fmt::format(" on {} ranks", comm->size()).c_str() : "");
}
}  // namespace

void add_agent_command(CLI::App& app) {
  auto opt = std::make_shared<AgentOptions>();
  CLI::App* cmd = app.add_subcommand(
      "agent",
      "Run active-inference agents (aif-mp.md §6) on an environment: all episodes in lock-step, "
      "one batched filter and planning call per step. The spec's evaluation is 1000 episodes: "
      "--episodes 1000. Plans stop early once their channels settle (--tolerance; 0 runs all "
      "--iterations, as the spec's reference numbers do).");
  cmd->add_option("--env", opt->env, "frozen_lake, rocksample or wumpus")
      ->capture_default_str()
      ->check(CLI::IsMember(agents::environment_names()));
  cmd->add_option("--method", opt->method, "bp, vbp, rm or aif")
      ->capture_default_str()
      ->check(CLI::IsMember({"bp", "vbp", "rm", "aif"}));
  cmd->add_option("--theta", opt->theta,
                  "auto (loopy for bp/vbp/rm as published, fixed for aif), fixed (θ held at the "
                  "belief) or loopy (bp/vbp/rm only)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "fixed", "loopy"}));
  cmd->add_option("--episodes", opt->episodes, "episodes (each with its own seed)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", opt->seed, "seed of the θ configurations and the episodes")
      ->capture_default_str();
  cmd->add_option("--device", opt->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--iterations", opt->iterations,
                  "planning iterations (0: the spec's, e.g. 400 for Frozen Lake)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--tolerance", opt->tolerance,
                  "stop a plan once no channel changes by more than this (in probability) between "
                  "iterations; 0: always run --iterations")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--check-tolerance", opt->check_tolerance,
                "also plan every request with all iterations and count how often the chosen "
                "action differs (slow: a fidelity check of --tolerance)");
  cmd->add_option("--horizon", opt->horizon, "planning horizon (0: the spec's)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--render", opt->render, "draw episode N step by step on stderr");
  cmd->add_flag("--json", opt->json, "print the results as JSON");
  cmd->add_flag("--quiet", opt->quiet, "no progress line");
  cmd->add_flag("--direct", opt->direct,
                "plan with one direct batched call per step instead of through mpe::Engine");
  cmd->callback([opt] { run_agent(*opt); });
}

}  // namespace mpe::cli
