// mpe plan MODEL REQUEST: AIF-MP planning from JSON files; prints the first-step action
// distribution (and, with --json, every output).
#include <algorithm>
#include <functional>

#include <fmt/format.h>
#include <mpe/aif.hpp>
#include <mpe/dist_batches.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "ranks.hpp"

namespace mpe::cli {

namespace {
struct PlanOptions {
  std::string model_path;
  std::string request_path;
  std::string device = "auto";
  bool json = false;
};

// Nested lists of a host tensor, for JSON output; null for a tensor not returned (a request
// with return_channels false leaves the channels undefined).
nlohmann::json nested(const Tensor& t) {
  if (!t.defined()) return nullptr;
  const auto v = t.to_vector<float>();
  const Shape& shape = t.shape();
  std::function<nlohmann::json(std::size_t, std::size_t)> build = [&](std::size_t dim,
                                                                      std::size_t offset) {
    nlohmann::json out = nlohmann::json::array();
    std::size_t stride = 1;
    for (std::size_t d = dim + 1; d < shape.size(); ++d)
      stride *= static_cast<std::size_t>(shape[d]);
    for (std::int64_t k = 0; k < shape[dim]; ++k) {
      const std::size_t at = offset + static_cast<std::size_t>(k) * stride;
      out.push_back(dim + 1 == shape.size() ? nlohmann::json(v[at]) : build(dim + 1, at));
    }
    return out;
  };
  return shape.empty() ? nlohmann::json(v.at(0)) : build(0, 0);
}

void run_plan(const PlanOptions& opt) {
  // Under mpirun the requests are split over the ranks; rank 0 gathers the plans and prints.
  const auto comm = dist::world();
  const Device dev = rank_device(opt.device, *comm);
  const aif::Model model = aif::Model::load(opt.model_path);
  const auto requests = aif::load_requests(opt.request_path);
  const auto plans = comm->size() > 1 ? dist::plan(*comm, model, requests, dev)
                                      : aif::plan(model, requests, dev);
  if (comm->rank() != 0) return;
  if (opt.json) {
    nlohmann::json out;
    out["device"] = dev.str();
    out["model"] = {{"states", model.states()},
                    {"thetas", model.thetas()},
                    {"actions", model.actions()},
                    {"modalities", model.modalities()},
                    {"outcomes", model.outcomes()}};
    for (const auto& p : plans) {
      nlohmann::json j;
      j["action_dist"] = p.action_dist;
      j["action"] =
          std::max_element(p.action_dist.begin(), p.action_dist.end()) - p.action_dist.begin();
      j["iterations_run"] = p.iterations_run;
      j["max_change"] = p.max_change;
      j["q_u"] = nested(p.q_u);
      if (p.log_r_x.defined()) j["log_r_x"] = nested(p.log_r_x);
      if (p.log_r_c.defined()) j["log_r_c"] = nested(p.log_r_c);
      out["plans"].push_back(j);
    }
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print("model {}: S={} K={} A={} F={} O={}, {} goal; {} request(s) on {}\n\n", opt.model_path,
             model.states(), model.thetas(), model.actions(), model.modalities(), model.outcomes(),
             model.goal_kind() == aif::GoalKind::terminal ? "terminal" : "theta", plans.size(),
             dev.str());
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    const auto best =
        std::max_element(p.action_dist.begin(), p.action_dist.end()) - p.action_dist.begin();
    fmt::print("request {} ({}, H={}, {} iterations run): act {}\n", i,
               aif::method_name(requests[i].method), requests[i].horizon, p.iterations_run, best);
    for (std::size_t u = 0; u < p.action_dist.size(); ++u) {
      fmt::print("  p(u0 = {}) = {:.8f}\n", u, p.action_dist[u]);
    }
  }
}
}  // namespace

void add_plan_command(CLI::App& app) {
  auto opt = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Plan with AIF-MP: a model file and a request file (JSON, docs/aif-model-format.md)");
  cmd->add_option("model", opt->model_path,
                  "Model JSON (T, B, action_prior, goal), or a folder of T.npy, B.npy, "
                  "action_prior.npy and goal.npy or C.npy")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("request", opt->request_path,
                  "Request JSON (q0, q_theta, horizon, iterations, damping, method, ...)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--device", opt->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_flag("--json", opt->json, "Print every output as JSON (q_u, log r_x, log r_c, ...)");
  cmd->callback([opt] { run_plan(*opt); });
}

}  // namespace mpe::cli
