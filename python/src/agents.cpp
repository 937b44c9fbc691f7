// Active-inference agents: evaluate() on the built-in environments (include/mpe/agents.hpp).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <mpe/agents.hpp>
#include <mpe/engine.hpp>

#include "arrays.hpp"
#include "bindings.hpp"

namespace mpe::py {

void bind_agents(nb::module_& m) {
  nb::class_<agents::EvalResult>(m, "EvalResult",
      "Statistics of an evaluation (mpe::agents::EvalResult) and per-episode records.")
      .def_ro("episodes", &agents::EvalResult::episodes)
      .def_ro("success_rate", &agents::EvalResult::success_rate)
      .def_ro("success_ci95", &agents::EvalResult::success_ci95, "1.96 sqrt(p(1-p)/n)")
      .def_ro("mean_reward", &agents::EvalResult::mean_reward)
      .def_ro("reward_ci95", &agents::EvalResult::reward_ci95)
      .def_ro("mean_steps", &agents::EvalResult::mean_steps, "actions taken / episodes")
      .def_ro("retrieval", &agents::EvalResult::retrieval, "RockSample only, else -1")
      .def_ro("wall_seconds", &agents::EvalResult::wall_seconds)
      .def_ro("episodes_per_second", &agents::EvalResult::episodes_per_second)
      .def_ro("plans", &agents::EvalResult::plans, "planning requests made")
      .def_ro("mean_iterations", &agents::EvalResult::mean_iterations)
      .def_ro("max_iterations", &agents::EvalResult::max_iterations)
      .def_ro("actions", &agents::EvalResult::actions, "per episode, the actions taken")
      .def_ro("successes", &agents::EvalResult::successes, "per episode, 0 or 1")
      .def_prop_ro("records", [](const agents::EvalResult& r) {
        nb::list out;
        for (std::size_t e = 0; e < r.actions.size(); ++e) {
          nb::dict d;
          d["episode"] = e;
          d["success"] = e < r.successes.size() && r.successes[e] != 0;
          d["steps"] = r.actions[e].size();
          d["actions"] = r.actions[e];
          out.append(d);
        }
        return out;
      }, "one dict per episode: episode, success, steps, actions")
      .def("__repr__", [](const agents::EvalResult& r) {
        return "EvalResult(episodes=" + std::to_string(r.episodes) + ", success_rate=" +
               std::to_string(r.success_rate) + " +- " + std::to_string(r.success_ci95) +
               ", mean_steps=" + std::to_string(r.mean_steps) + ")";
      });

  m.def("environment_names", &agents::environment_names,
        "Names evaluate() accepts as env=.");
  m.def("evaluate",
        [](const std::string& env, const std::string& method, int episodes, std::uint64_t seed,
           DeviceArg device, int iterations, int horizon, float tolerance,
           const std::string& theta, int first_episode, bool use_engine) {
          const auto environment = agents::make_environment(env, seed);
          agents::EvalOptions o;
          o.method = aif::parse_method(method);
          // auto: as `mpe agent` — the baselines with theta loopy as published, aif fixed.
          o.theta = aif::parse_theta_mode(theta != "auto" ? theta
                                          : method == "aif" ? "fixed" : "loopy");
          o.episodes = episodes;
          o.seed = seed;
          o.first_episode = first_episode;
          o.device = device_arg(device);
          o.iterations = iterations;
          o.horizon = horizon;
          o.tolerance = tolerance;
          nb::gil_scoped_release release;
          if (!use_engine) return agents::evaluate(*environment, o);
          EngineOptions eo;  // as `mpe agent`: each step's requests batched by the scheduler
          eo.device = o.device.str();
          eo.max_batch = 256;
          eo.max_delay = std::chrono::microseconds(200);
          Engine engine(eo);
          o.engine = &engine;
          return agents::evaluate(*environment, o);
        },
        nb::arg("env") = "frozen_lake", nb::kw_only(), nb::arg("method") = "aif",
        nb::arg("episodes") = 100, nb::arg("seed") = 1, nb::arg("device") = nb::none(),
        nb::arg("iterations") = 0, nb::arg("horizon") = 0, nb::arg("tolerance") = 0.0f,
        nb::arg("theta") = "auto", nb::arg("first_episode") = 0, nb::arg("engine") = true,
        "Runs `episodes` episodes of an environment ('frozen_lake', 'rocksample', 'wumpus')\n"
        "in lock-step with AIF-MP planning, as `mpe agent` does (the same seed gives the same\n"
        "episodes). method: 'aif', 'bp', 'vbp' or 'rm'; iterations/horizon 0: the\n"
        "environment's; tolerance: early stop of each plan; theta 'auto' (aif fixed, the\n"
        "baselines loopy), 'fixed' or 'loopy'; engine: plan through an mpe::Engine (batched).\n"
        "The GIL is released while it runs.");
}

}  // namespace mpe::py
