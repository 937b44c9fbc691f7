// AIF-MP: Model, PlanRequest, Plan and plan() (include/mpe/aif.hpp).
#include <memory>
#include <string>
#include <vector>

#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <mpe/aif.hpp>
#include <mpe/error.hpp>

#include "arrays.hpp"
#include "bindings.hpp"

namespace mpe::py {
namespace {

using aif::DampingKind;
using aif::DynamicsLayout;
using aif::ObservationPath;

// The JSON request format's names for the enums without parsers of their own.
const char* path_name(ObservationPath p) {
  return p == ObservationPath::dense ? "dense" : "precomputed";
}
ObservationPath parse_path(const std::string& s) {
  if (s == "dense") return ObservationPath::dense;
  if (s == "precomputed") return ObservationPath::precomputed;
  throw Error(ErrorCode::invalid_argument,
              "observation_path is '" + s + "', expected dense or precomputed");
}
const char* damping_name(DampingKind d) {
  return d == DampingKind::geometric ? "geometric" : "arithmetic";
}
DampingKind parse_damping(const std::string& s) {
  if (s == "geometric") return DampingKind::geometric;
  if (s == "arithmetic") return DampingKind::arithmetic;
  throw Error(ErrorCode::invalid_argument,
              "damping_kind is '" + s + "', expected geometric or arithmetic");
}
const char* dynamics_name(DynamicsLayout d) {
  return d == DynamicsLayout::automatic ? "auto" : d == DynamicsLayout::dense ? "dense" : "sparse";
}
DynamicsLayout parse_dynamics(const std::string& s) {
  if (s == "auto") return DynamicsLayout::automatic;
  if (s == "dense") return DynamicsLayout::dense;
  if (s == "sparse") return DynamicsLayout::sparse;
  throw Error(ErrorCode::invalid_argument,
              "dynamics is '" + s + "', expected auto, dense or sparse");
}

// A model owns copies of its tensors: it is validated once and must not change under the
// planner (the copy is made once per model, not per plan).
Tensor model_tensor(const AnyArray& a, const char* name) {
  return as_tensor(a, name, DType::f32).clone();
}

nb::object readonly(nb::object arr) {
  arr.attr("flags").attr("writeable") = false;
  return arr;
}

// plan() takes one request or a sequence of them; dicts are PlanRequest keyword arguments.
std::vector<aif::PlanRequest> requests_arg(nb::handle requests, nb::handle request_type) {
  std::vector<aif::PlanRequest> out;
  auto one = [&](nb::handle r) {
    if (nb::isinstance<aif::PlanRequest>(r)) {
      out.push_back(nb::cast<const aif::PlanRequest&>(r));
    } else if (nb::isinstance<nb::dict>(r)) {
      nb::object made = request_type(**nb::borrow<nb::dict>(r));
      out.push_back(nb::cast<const aif::PlanRequest&>(made));
    } else {
      throw nb::type_error("requests: expected a PlanRequest, a dict of its fields or a list "
                           "of them");
    }
  };
  if (nb::isinstance<aif::PlanRequest>(requests) || nb::isinstance<nb::dict>(requests)) {
    one(requests);
  } else {
    for (nb::handle r : requests) one(r);
  }
  return out;
}

}  // namespace

void bind_aif(nb::module_& m) {
  nb::class_<aif::Model>(m, "Model",
      "A validated AIF-MP generative model (mpe::aif::Model). Arrays are float32, C-contiguous:\n"
      "T [S_new, S_old, K, A] p(x'|x, theta, u); B [F, O, S, K] p(y_f|x, theta);\n"
      "action_prior [A]; and exactly one goal: goal [S] (preferred final state) or\n"
      "C [S, K] (per-step, theta-dependent state preference). The model keeps its own copy.")
      .def("__init__",
           [](aif::Model* self, const AnyArray& T, const AnyArray& B, const AnyArray& action_prior,
              std::optional<AnyArray> goal, std::optional<AnyArray> C) {
             if (goal.has_value() == C.has_value()) {
               throw Error(ErrorCode::invalid_argument,
                           "Model: give exactly one of goal= (terminal, [S]) and C= ([S, K])");
             }
             const Tensor t = model_tensor(T, "T"), b = model_tensor(B, "B");
             const Tensor pu = model_tensor(action_prior, "action_prior");
             if (goal) {
               new (self) aif::Model(
                   aif::Model::with_terminal_goal(t, b, pu, model_tensor(*goal, "goal")));
             } else {
               new (self) aif::Model(aif::Model::with_theta_goal(t, b, pu, model_tensor(*C, "C")));
             }
           },
           nb::arg("T"), nb::arg("B"), nb::arg("action_prior"), nb::kw_only(),
           nb::arg("goal") = nb::none(), nb::arg("C") = nb::none())
      .def_static("load", &aif::Model::load, nb::arg("path"),
                  "Reads a model from a JSON file or a folder of .npy files "
                  "(docs/aif-model-format.md).")
      .def_prop_ro("states", &aif::Model::states, "S")
      .def_prop_ro("thetas", &aif::Model::thetas, "K")
      .def_prop_ro("actions", &aif::Model::actions, "A")
      .def_prop_ro("modalities", &aif::Model::modalities, "F")
      .def_prop_ro("outcomes", &aif::Model::outcomes, "O")
      .def_prop_ro("goal_kind", [](const aif::Model& mo) {
        return mo.goal_kind() == aif::GoalKind::terminal ? "terminal" : "theta";
      }, "'terminal' (goal [S]) or 'theta' (C [S, K])")
      .def_prop_ro("T", [](const aif::Model& mo) { return readonly(to_array(mo.T())); },
                   "T [S, S, K, A] (read-only view)")
      .def_prop_ro("B", [](const aif::Model& mo) { return readonly(to_array(mo.B())); },
                   "B [F, O, S, K] (read-only view)")
      .def_prop_ro("action_prior",
                   [](const aif::Model& mo) { return readonly(to_array(mo.action_prior())); },
                   "normalised action prior [A] (read-only view)")
      .def_prop_ro("goal", [](const aif::Model& mo) { return readonly(to_array(mo.goal())); },
                   "goal [S] or C [S, K] (read-only view)")
      .def("with_goal", [](const aif::Model& mo, const AnyArray& goal) {
        return mo.with_goal(model_tensor(goal, "goal"));
      }, nb::arg("goal"), "This model with another goal of the same kind (T and B shared).")
      .def("same_shape", &aif::Model::same_shape, nb::arg("other"),
           "True when two models can share a batch.")
      .def("__repr__", [](const aif::Model& mo) {
        return "Model(S=" + std::to_string(mo.states()) + ", K=" + std::to_string(mo.thetas()) +
               ", A=" + std::to_string(mo.actions()) + ", F=" + std::to_string(mo.modalities()) +
               ", O=" + std::to_string(mo.outcomes()) + ")";
      });

  nb::class_<aif::PlanRequest>(m, "PlanRequest",
      "One planning problem with the fields of the JSON request format "
      "(docs/aif-model-format.md).")
      .def("__init__",
           [](aif::PlanRequest* self, std::vector<float> q0, std::vector<float> q_theta,
              int horizon, int iterations, float damping, const std::string& method,
              const std::string& observation_path, const std::string& damping_kind,
              const std::string& dynamics, float tolerance, const std::string& theta,
              bool return_channels) {
             aif::PlanRequest r;
             r.q0 = std::move(q0);
             r.q_theta = std::move(q_theta);
             r.horizon = horizon;
             r.iterations = iterations;
             r.damping = damping;
             r.method = aif::parse_method(method);
             r.observation_path = parse_path(observation_path);
             r.damping_kind = parse_damping(damping_kind);
             r.dynamics = parse_dynamics(dynamics);
             r.tolerance = tolerance;
             r.theta = aif::parse_theta_mode(theta);
             r.return_channels = return_channels;
             new (self) aif::PlanRequest(std::move(r));
           },
           nb::arg("q0"), nb::arg("q_theta"), nb::kw_only(), nb::arg("horizon") = 5,
           nb::arg("iterations") = 10, nb::arg("damping") = 0.5f, nb::arg("method") = "aif",
           nb::arg("observation_path") = "dense", nb::arg("damping_kind") = "geometric",
           nb::arg("dynamics") = "auto", nb::arg("tolerance") = 0.0f, nb::arg("theta") = "fixed",
           nb::arg("return_channels") = true)
      .def_rw("q0", &aif::PlanRequest::q0, "state belief q(x), [S]")
      .def_rw("q_theta", &aif::PlanRequest::q_theta, "belief over theta, [K]")
      .def_rw("horizon", &aif::PlanRequest::horizon, "H >= 1")
      .def_rw("iterations", &aif::PlanRequest::iterations, "I >= 1")
      .def_rw("damping", &aif::PlanRequest::damping, "lambda in (0, 1]")
      .def_rw("tolerance", &aif::PlanRequest::tolerance, "early stop (probability); 0 = off")
      .def_rw("return_channels", &aif::PlanRequest::return_channels,
              "fill Plan.log_r_x and Plan.log_r_c")
      .def_prop_rw("method", [](const aif::PlanRequest& r) { return aif::method_name(r.method); },
                   [](aif::PlanRequest& r, const std::string& s) { r.method = aif::parse_method(s); },
                   "'bp', 'vbp', 'rm' or 'aif'")
      .def_prop_rw("observation_path",
                   [](const aif::PlanRequest& r) { return path_name(r.observation_path); },
                   [](aif::PlanRequest& r, const std::string& s) { r.observation_path = parse_path(s); },
                   "'dense' or 'precomputed'")
      .def_prop_rw("damping_kind",
                   [](const aif::PlanRequest& r) { return damping_name(r.damping_kind); },
                   [](aif::PlanRequest& r, const std::string& s) { r.damping_kind = parse_damping(s); },
                   "'geometric' or 'arithmetic'")
      .def_prop_rw("dynamics", [](const aif::PlanRequest& r) { return dynamics_name(r.dynamics); },
                   [](aif::PlanRequest& r, const std::string& s) { r.dynamics = parse_dynamics(s); },
                   "'auto', 'dense' or 'sparse'")
      .def_prop_rw("theta", [](const aif::PlanRequest& r) { return aif::theta_mode_name(r.theta); },
                   [](aif::PlanRequest& r, const std::string& s) { r.theta = aif::parse_theta_mode(s); },
                   "'fixed' or 'loopy'")
      .def("__repr__", [](const aif::PlanRequest& r) {
        return "PlanRequest(S=" + std::to_string(r.q0.size()) + ", K=" +
               std::to_string(r.q_theta.size()) + ", horizon=" + std::to_string(r.horizon) +
               ", iterations=" + std::to_string(r.iterations) + ", method='" +
               aif::method_name(r.method) + "')";
      });

  nb::class_<aif::Plan>(m, "Plan",
      "The result of one planning problem; arrays are views on the plan's own memory.")
      .def_prop_ro("action_dist", [](aif::Plan& p) {
        return view_vector(p.action_dist, nb::find(&p));
      }, "p(u_0) [A]; act with its argmax")
      .def_prop_ro("q_u", [](const aif::Plan& p) { return to_array(p.q_u); },
                   "action marginals of every step [H, A]")
      .def_prop_ro("log_r_x", [](const aif::Plan& p) { return to_array_or_none(p.log_r_x); },
                   "log predictive dynamics channel [H, S_old, S_new, A], or None")
      .def_prop_ro("log_r_c", [](const aif::Plan& p) { return to_array_or_none(p.log_r_c); },
                   "log observation channel [H+1, F, O, S, K], or None")
      .def_ro("iterations_run", &aif::Plan::iterations_run, "iterations performed")
      .def_ro("sparse_dynamics", &aif::Plan::sparse_dynamics, "the sparse layout was used")
      .def_ro("max_change", &aif::Plan::max_change, "largest channel change, last iteration")
      .def("__repr__", [](const aif::Plan& p) {
        std::string s = "Plan(action_dist=[";
        for (std::size_t i = 0; i < p.action_dist.size(); ++i) {
          s += (i ? ", " : "") + std::to_string(p.action_dist[i]);
        }
        return s + "], iterations_run=" + std::to_string(p.iterations_run) + ")";
      });

  m.def("load_requests", &aif::load_requests, nb::arg("path"),
        "Reads planning requests from a JSON file (one object or {'requests': [...]}).");
  m.def("validate_request", &aif::validate_request, nb::arg("model"), nb::arg("request"),
        "Checks a request against a model as plan() does; raises naming the field.");

  nb::handle request_type = nb::type<aif::PlanRequest>();
  m.def("plan",
        [request_type](const aif::Model& model, RequestsArg requests, DeviceArg device) {
          std::vector<aif::PlanRequest> reqs = requests_arg(requests, request_type);
          const Device dev = device_arg(device);
          nb::gil_scoped_release release;
          return aif::plan(model, reqs, dev);
        },
        nb::arg("model"), nb::arg("requests"), nb::kw_only(), nb::arg("device") = nb::none(),
        "Plans every request with one model (one batched call; the GIL is released while it\n"
        "runs). `requests`: a PlanRequest, a dict of its fields, or a list of them. Returns a\n"
        "list of Plan, in request order. device: 'cpu', 'cuda[:N]', 'auto' or None (default).");
}

}  // namespace mpe::py
