// mpe bp FILE: loopy belief propagation on a factor graph file (libDAI .fg or UAI), with
// optional UAI evidence (every sample of the .evid file runs in one batch). Prints the
// marginals (sum-product) or max-marginals and the MAP assignment (max-product), log Z and
// the convergence of each run, as a table or JSON.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <mpe/dist_batches.hpp>
#include <mpe/dist_models.hpp>
#include <mpe/mpe.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "ranks.hpp"

namespace mpe::cli {

namespace {
struct BpCliOptions {
  std::string path;
  std::string evidence;
  std::string method = "sum";
  std::string schedule = "flooding";
  std::string precision = "f64";
  std::string device = "auto";
  std::string partition;  // empty: evidence samples sharded; else the factors partitioned
  double damping = 0.0;
  double tol = 1e-9;
  int max_iter = 1000;
  int limit = 40;
  bool json = false;
};

nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); }

std::string label_of(const bp::FactorGraph& g, int v) {
  return std::to_string(g.labels.empty() ? v : g.labels[static_cast<std::size_t>(v)]);
}

void run_bp_command(const BpCliOptions& opt) {
  // Under mpirun the evidence samples are split over the ranks; rank 0 gathers and prints.
  const auto comm = dist::world();
  bp::Options o;
  o.method = bp::parse_method(opt.method);
  o.schedule = bp::parse_schedule(opt.schedule);
  o.precision = bp::parse_precision(opt.precision);
  o.device = rank_device(opt.device, *comm);
  if (!opt.partition.empty() && opt.device == "auto") o.device = Device::cpu();  // CPU only
  o.damping = opt.damping;
  o.tol = opt.tol;
  o.max_iter = opt.max_iter;
  o.factor_beliefs = false;
  const bp::FactorGraph g = bp::read_factor_graph(opt.path);
  std::vector<bp::Instance> batch(1);
  if (!opt.evidence.empty()) {
    const auto evs = bp::read_uai_evidence(opt.evidence, g);
    batch.assign(evs.size(), bp::Instance{});
    for (std::size_t i = 0; i < evs.size(); ++i) batch[i].evidence = evs[i];
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<bp::Result> rs;
  if (!opt.partition.empty()) {  // one graph over the ranks, each sample in turn
    const auto owner =
        dist::partition_factors(g, comm->size(), dist::parse_partition_method(opt.partition));
    for (const bp::Instance& in : batch)
      rs.push_back(dist::run_partitioned(*comm, g, owner, o, in));
  } else {
    rs = comm->size() > 1 ? dist::run_batch(*comm, g, batch, o) : bp::run_batch(g, batch, o);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (comm->rank() != 0) return;
  int max_card = 0, max_arity = 0;
  for (int c : g.cardinalities) max_card = std::max(max_card, c);
  for (const bp::Factor& f : g.factors) max_arity = std::max(max_arity, static_cast<int>(f.vars.size()));
  const bool is_max = o.method == bp::Method::max_product;

  if (opt.json) {
    nlohmann::json out;
    out["file"] = opt.path;
    out["graph"] = {{"variables", g.num_variables()}, {"factors", g.num_factors()},
                    {"edges", g.num_edges()}, {"max_cardinality", max_card},
                    {"max_arity", max_arity}};
    out["options"] = {{"method", bp::method_name(o.method)},
                      {"schedule", bp::schedule_name(o.schedule)},
                      {"precision", bp::precision_name(o.precision)},
                      {"damping", o.damping}, {"tol", o.tol}, {"max_iter", o.max_iter},
                      {"device", o.device.str()}};
    out["seconds"] = secs;
    out["labels"] = nlohmann::json::array();
    for (int v = 0; v < g.num_variables(); ++v) out["labels"].push_back(label_of(g, v));
    for (std::size_t b = 0; b < rs.size(); ++b) {
      const bp::Result& r = rs[b];
      nlohmann::json j = {{"sample", b}, {"converged", r.converged},
                          {"iterations", r.iterations}, {"max_change", r.max_change}};
      j["beliefs"] = r.var_beliefs;
      if (is_max) {
        j["map"] = r.map;
        j["map_log_score"] = number(r.map_log_score);
      } else {
        j["log_z"] = number(r.log_z);
      }
      if (!batch[b].evidence.empty()) j["evidence"] = batch[b].evidence;
      out["results"].push_back(j);
    }
    fmt::print("{}\n", out.dump(1));
    return;
  }
  fmt::print("factor graph {}: {} variables (up to {} states), {} factors (arity up to {}), {} "
             "edges\n",
             opt.path, g.num_variables(), max_card, g.num_factors(), max_arity, g.num_edges());
  fmt::print("{}-product BP, {} schedule, damping {}, tol {:g}, max {} sweeps, {} on {}; {} "
             "run(s) in {:.3f} s\n",
             bp::method_name(o.method), bp::schedule_name(o.schedule), o.damping, o.tol,
             o.max_iter, bp::precision_name(o.precision), o.device.str(), rs.size(), secs);
  for (std::size_t b = 0; b < rs.size(); ++b) {
    const bp::Result& r = rs[b];
    fmt::print("\n{}{} after {} sweeps (max message change {:.3g})", rs.size() > 1 ? fmt::format("evidence sample {}: ", b) : "",
               r.converged ? "converged" : "NOT converged", r.iterations, r.max_change);
    if (is_max) {
      fmt::print(", MAP log-score {:.10g}\n\n", r.map_log_score);
    } else {
      fmt::print(", log Z (Bethe) {:.10g}\n\n", r.log_z);
    }
    fmt::print("| variable | states | evidence | {} |{}\n", is_max ? "max-marginal" : "marginal",
               is_max ? " MAP |" : "");
    fmt::print("|---:|---:|---:|---|{}\n", is_max ? "---:|" : "");
    const int shown = opt.limit > 0 ? std::min(opt.limit, g.num_variables()) : g.num_variables();
    for (int v = 0; v < shown; ++v) {
      const auto& bel = r.var_beliefs[static_cast<std::size_t>(v)];
      std::string cells;
      for (std::size_t x = 0; x < bel.size() && x < 8; ++x) cells += fmt::format("{}{:.6f}", x ? " " : "", bel[x]);
      if (bel.size() > 8) cells += fmt::format(" … ({} states)", bel.size());
      const int ev = batch[b].evidence.empty() ? -1 : batch[b].evidence[static_cast<std::size_t>(v)];
      fmt::print("| {} | {} | {} | {} |{}\n", label_of(g, v), bel.size(),
                 ev >= 0 ? std::to_string(ev) : std::string("-"), cells,
                 is_max ? fmt::format(" {} |", r.map[static_cast<std::size_t>(v)]) : "");
    }
    if (shown < g.num_variables()) {
      fmt::print("({} more variables; --limit 0 prints all, --json gives everything)\n",
                 g.num_variables() - shown);
    }
  }
}
}  // namespace

void add_bp_command(CLI::App& app) {
  auto opt = std::make_shared<BpCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bp", "Loopy belief propagation on a factor graph file: marginals and log Z (sum-product) "
            "or the MAP assignment (max-product)");
  cmd->add_option("file", opt->path,
                  "Factor graph: libDAI .fg, or UAI (.uai, MARKOV or BAYES)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--evidence", opt->evidence,
                  "UAI .evid file; every evidence sample in it runs in one batch")
      ->check(CLI::ExistingFile);
  cmd->add_option("--method", opt->method, "sum (marginals, log Z) or max (MAP)")
      ->capture_default_str();
  cmd->add_option("--schedule", opt->schedule,
                  "flooding (all messages at once; CPU and GPU) or sequential (factor by "
                  "factor, newest messages; CPU)")
      ->capture_default_str();
  cmd->add_option("--damping", opt->damping,
                  "Weight of the old message in [0, 1) (log-space mixing)")
      ->capture_default_str();
  cmd->add_option("--tol", opt->tol,
                  "Stop when no message changes by this much (max |p_new - p_old|)")
      ->capture_default_str();
  cmd->add_option("--max-iter", opt->max_iter, "Sweep cap")->capture_default_str();
  cmd->add_option("--precision", opt->precision, "Message arithmetic: f64 or f32")
      ->capture_default_str();
  cmd->add_option("--device", opt->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--limit", opt->limit, "Variables shown in the table (0 = all)")
      ->capture_default_str();
  cmd->add_flag("--json", opt->json, "Print JSON (every variable) instead of a table");
  cmd->add_option("--partition", opt->partition,
                  "Under mpirun: split the graph's factors over the ranks (auto, contiguous, "
                  "metis) and run flooding BP on the parts, exchanging cut-edge messages each "
                  "sweep (CPU); without it the evidence samples are split");
  cmd->callback([opt] { run_bp_command(*opt); });
}

}  // namespace mpe::cli
