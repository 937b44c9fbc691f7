// Loopy belief propagation: FactorGraph and bp_run (include/mpe/factor_graph.hpp).
#include <string>
#include <vector>

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <mpe/factor_graph.hpp>

#include "arrays.hpp"
#include "bindings.hpp"

namespace mpe::py {
namespace {

bp::Options options_arg(const std::string& method, const std::string& schedule,
                        const std::string& precision, double damping, double tol, int max_iter,
                        bool factor_beliefs, DeviceArg device) {
  bp::Options o;
  o.method = bp::parse_method(method);
  o.schedule = bp::parse_schedule(schedule);
  o.precision = bp::parse_precision(precision);
  o.damping = damping;
  o.tol = tol;
  o.max_iter = max_iter;
  o.factor_beliefs = factor_beliefs;
  o.device = device_arg(device);
  return o;
}

nb::list views(const std::vector<std::vector<double>>& v, nb::handle owner) {
  nb::list out;
  for (const auto& x : v) out.append(view_vector(x, owner));
  return out;
}

constexpr const char* kOptionsDoc =
    "method 'sum' (marginals, Bethe log Z) or 'max' (MAP); schedule 'flooding' or\n"
    "'sequential' (CPU); precision 'f64' or 'f32' (messages); damping in [0, 1); tol on the\n"
    "largest message change; max_iter sweeps; device None (default), 'cpu', 'cuda[:N]'.\n"
    "The GIL is released while it runs.";

}  // namespace

void bind_bp(nb::module_& m) {
  nb::class_<bp::FactorGraph>(m, "FactorGraph",
      "A discrete factor graph (mpe::bp::FactorGraph); tables list the first variable fastest\n"
      "(libDAI's order), values are natural-log potentials.")
      .def(nb::init<>())
      .def_static("load", &bp::read_factor_graph, nb::arg("path"),
                  "Reads a libDAI .fg file, or a UAI file (name ending in .uai).")
      .def("add_variable", &bp::FactorGraph::add_variable, nb::arg("cardinality"),
           "Adds a variable and returns its id.")
      .def("add_factor",
           [](bp::FactorGraph& g, std::vector<int> vars, const std::vector<double>& p) {
             return g.add_factor(std::move(vars), p);
           },
           nb::arg("vars"), nb::arg("probabilities"),
           "Adds a factor from probabilities (first variable fastest); returns its id.")
      .def("add_log_factor",
           [](bp::FactorGraph& g, std::vector<int> vars, std::vector<double> lv) {
             return g.add_log_factor(std::move(vars), std::move(lv));
           },
           nb::arg("vars"), nb::arg("log_values"), "Adds a factor from log-potentials.")
      .def_prop_ro("num_variables", &bp::FactorGraph::num_variables)
      .def_prop_ro("num_factors", &bp::FactorGraph::num_factors)
      .def_ro("cardinalities", &bp::FactorGraph::cardinalities)
      .def_ro("labels", &bp::FactorGraph::labels)
      .def_prop_ro("factors", [](const bp::FactorGraph& g) {
        nb::list out;
        for (const bp::Factor& f : g.factors) {
          out.append(nb::make_tuple(nb::cast(f.vars), nb::cast(f.log_values)));
        }
        return out;
      }, "(vars, log_values) of every factor")
      .def("validate", &bp::FactorGraph::validate)
      .def("log_score", [](const bp::FactorGraph& g, const std::vector<int>& a) {
        return bp::log_score(g, a);
      }, nb::arg("assignment"), "sum_f log phi_f(x_f) of a complete assignment")
      .def("read_evidence", [](const bp::FactorGraph& g, const std::string& path) {
        return bp::read_uai_evidence(path, g);
      }, nb::arg("path"), "A UAI .evid file: one list per sample (-1 = unobserved).")
      .def("save_fg", [](const bp::FactorGraph& g, const std::string& path) {
        bp::write_fg(g, path);
      }, nb::arg("path"), "Writes libDAI's .fg format.")
      .def("__repr__", [](const bp::FactorGraph& g) {
        return "FactorGraph(variables=" + std::to_string(g.num_variables()) +
               ", factors=" + std::to_string(g.num_factors()) + ")";
      });

  nb::class_<bp::Result>(m, "BPResult", "The result of one belief-propagation run.")
      .def_ro("converged", &bp::Result::converged)
      .def_ro("iterations", &bp::Result::iterations)
      .def_ro("max_change", &bp::Result::max_change)
      .def_prop_ro("marginals", [](bp::Result& r) { return views(r.var_beliefs, nb::find(&r)); },
                   "normalised variable beliefs (max-marginals for 'max'), float64 arrays")
      .def_prop_ro("factor_beliefs",
                   [](bp::Result& r) { return views(r.factor_beliefs, nb::find(&r)); })
      .def_ro("log_z", &bp::Result::log_z, "Bethe log Z (sum-product; exact on trees)")
      .def_ro("map", &bp::Result::map, "MAP assignment (max-product), else []")
      .def_ro("map_log_score", &bp::Result::map_log_score)
      .def("__repr__", [](const bp::Result& r) {
        return "BPResult(converged=" + std::string(r.converged ? "True" : "False") +
               ", iterations=" + std::to_string(r.iterations) +
               ", log_z=" + std::to_string(r.log_z) + ")";
      });

  m.def("bp_run",
        [](const bp::FactorGraph& g, const std::string& method, const std::string& schedule,
           const std::string& precision, double damping, double tol, int max_iter,
           std::vector<int> evidence, bool factor_beliefs, DeviceArg device) {
          const bp::Options o = options_arg(method, schedule, precision, damping, tol, max_iter,
                                            factor_beliefs, device);
          nb::gil_scoped_release release;
          return bp::run(g, o, evidence);
        },
        nb::arg("graph"), nb::kw_only(), nb::arg("method") = "sum",
        nb::arg("schedule") = "flooding", nb::arg("precision") = "f64", nb::arg("damping") = 0.0,
        nb::arg("tol") = 1e-9, nb::arg("max_iter") = 1000,
        nb::arg("evidence") = std::vector<int>(), nb::arg("factor_beliefs") = false,
        nb::arg("device") = nb::none(), kOptionsDoc);
  m.def("bp_run_batch",
        [](const bp::FactorGraph& g, const std::vector<std::vector<int>>& evidence,
           const std::string& method, const std::string& schedule, const std::string& precision,
           double damping, double tol, int max_iter, bool factor_beliefs, DeviceArg device) {
          const bp::Options o = options_arg(method, schedule, precision, damping, tol, max_iter,
                                            factor_beliefs, device);
          std::vector<bp::Instance> batch(evidence.size());
          for (std::size_t i = 0; i < evidence.size(); ++i) batch[i].evidence = evidence[i];
          nb::gil_scoped_release release;
          return bp::run_batch(g, batch, o);
        },
        nb::arg("graph"), nb::arg("evidence"), nb::kw_only(), nb::arg("method") = "sum",
        nb::arg("schedule") = "flooding", nb::arg("precision") = "f64", nb::arg("damping") = 0.0,
        nb::arg("tol") = 1e-9, nb::arg("max_iter") = 1000, nb::arg("factor_beliefs") = false,
        nb::arg("device") = nb::none(),
        "One run per evidence vector, batched in one go; same options as bp_run.");
}

}  // namespace mpe::py
