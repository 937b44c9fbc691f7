// mpe aggregate GRAPH: load a graph (Matrix Market or edge list), build its CSR and run rounds
// of CSR aggregation over seeded random features on the chosen device. Prints graph statistics,
// timings and, per aggregation, the mean |y| after the last round with the growth per round
// ((mean |y| / mean |x|)^(1/rounds): sums grow like the degree each round, so after 20 rounds
// the raw magnitudes say little; the growth per round is a figure a reader can check against
// the degrees); on a GPU also the largest difference from the CPU.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <mpe/mpe.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"

namespace mpe::cli {

namespace {
struct AggregateOptions {
  std::string graph_path;
  std::string device = "auto";
  std::vector<std::string> aggs = {"sum", "mean", "max", "min"};
  std::int64_t width = 64;
  int rounds = 10;
  std::uint64_t seed = 42;
  bool symmetrize = false;
  bool self_loops = false;
  bool json = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Pull-direction CSR: row i lists the sources of edges into i.
Csr load_graph(const AggregateOptions& opt) {
  Coo coo;
  if (ends_with(opt.graph_path, ".mtx")) {
    coo = read_matrix_market(opt.graph_path);
  } else {
    EdgeListOptions el;
    el.relabel = true;
    coo = read_edge_list(opt.graph_path, el).coo;
  }
  CsrBuildOptions build;
  build.symmetrize = opt.symmetrize;
  build.add_self_loops = opt.self_loops;
  build.duplicates = Duplicates::first;  // a repeated edge counts once
  try {
    return csr_from_coo(transposed(coo), build);
  } catch (const Error& e) {  // name the file: csr_from_coo knows only the sizes
    throw Error(e.code(), fmt::format("{}: {}", opt.graph_path, e.message()));
  }
}

// Runs `rounds` aggregations, feeding each output back as the next input (a square graph).
// Returns the final features on the host.
std::vector<float> run_rounds(const Csr& g, const Tensor& x0, Aggregation agg, int rounds,
                              double* ms) {
  Tensor x = x0.clone();
  Tensor y = Tensor::empty({g.num_rows, x0.dim(1)}, DType::f32, x0.device());
  synchronize(x0.device());
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    csr_aggregate(g, x, agg, y);
    std::swap(x, y);
  }
  synchronize(x0.device());
  *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return x.to_vector<float>();
}

void run_aggregate(const AggregateOptions& opt) {
  const Device dev = parse_device(opt.device);
  const Csr host_graph = load_graph(opt);
  if (host_graph.num_rows != host_graph.num_cols) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: rounds of aggregation need a square graph, got {} x {}",
                            opt.graph_path, host_graph.num_rows, host_graph.num_cols));
  }
  const auto deg = row_degrees(host_graph);
  const std::int64_t max_deg = deg.empty() ? 0 : *std::max_element(deg.begin(), deg.end());
  const auto empty_rows = std::count(deg.begin(), deg.end(), 0);

  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> xv(static_cast<std::size_t>(host_graph.num_cols * opt.width));
  for (auto& v : xv) v = dist(rng);
  const Tensor x_host = Tensor::from_vector(xv, {host_graph.num_cols, opt.width});
  double x_mean_abs = 0;
  for (float v : xv) x_mean_abs += std::fabs(v);
  x_mean_abs /= xv.empty() ? 1.0 : double(xv.size());

  const Csr g = host_graph.to(dev);
  const Tensor x = x_host.to(dev);
  nlohmann::json out;
  out["graph"] = {{"path", opt.graph_path},
                  {"nodes", host_graph.num_rows},
                  {"edges", host_graph.nnz()},
                  {"max_in_degree", max_deg},
                  {"empty_rows", empty_rows}};
  out["device"] = dev.str();
  out["width"] = opt.width;
  out["rounds"] = opt.rounds;
  if (!opt.json) {
    fmt::print(
        "graph {}: {} nodes, {} edges (in-degree mean {:.2f}, max {}, {} nodes without "
        "in-edges)\n",
        opt.graph_path, host_graph.num_rows, host_graph.nnz(),
        host_graph.num_rows ? double(host_graph.nnz()) / host_graph.num_rows : 0.0, max_deg,
        empty_rows);
    fmt::print("device {} ({}), {} rounds of y = AGG w*x over {}-wide random features\n\n",
               dev.str(), device_info(dev).name, opt.rounds, opt.width);
    fmt::print("mean |x| = {:.4g}\n\n", x_mean_abs);
    fmt::print(
        "| aggregation | time/round | mean |y| | growth/round | max |y_dev - y_cpu| / max |y_cpu| "
        "|\n");
    fmt::print("|---|---:|---:|---:|---:|\n");
  }
  for (const std::string& name : opt.aggs) {
    const Aggregation agg = parse_aggregation(name);
    double ms = 0;
    const auto y = run_rounds(g, x, agg, opt.rounds, &ms);
    double checksum = 0;
    for (float v : y) checksum += std::fabs(v);
    const double mean_abs = y.empty() ? 0.0 : checksum / double(y.size());
    const double growth = mean_abs > 0 && x_mean_abs > 0
                              ? std::pow(mean_abs / x_mean_abs, 1.0 / opt.rounds)
                              : 0.0;
    double max_diff = 0;
    if (dev.kind != DeviceKind::cpu) {
      double cpu_ms = 0;
      const auto y_cpu = run_rounds(host_graph, x_host, agg, opt.rounds, &cpu_ms);
      // Relative to the largest magnitude: sums grow like degree^rounds.
      double scale = 1.0;
      for (float v : y_cpu) scale = std::max(scale, double(std::fabs(v)));
      for (std::size_t k = 0; k < y.size(); ++k) {
        max_diff = std::max(max_diff, double(std::fabs(y[k] - y_cpu[k])) / scale);
      }
    }
    out["results"].push_back({{"aggregation", name},
                              {"ms_per_round", ms / opt.rounds},
                              {"checksum", checksum},
                              {"mean_abs", mean_abs},
                              {"growth_per_round", growth},
                              {"max_rel_diff_vs_cpu", max_diff}});
    if (!opt.json) {
      fmt::print(
          "| {} | {:.3f} ms | {:.4g} | {:.4g} | {} |\n", name, ms / opt.rounds, mean_abs, growth,
          dev.kind == DeviceKind::cpu ? std::string("(cpu run)") : fmt::format("{:.3g}", max_diff));
    }
  }
  if (opt.json) fmt::print("{}\n", out.dump(2));
}
}  // namespace

void add_aggregate_command(CLI::App& app) {
  auto opt = std::make_shared<AggregateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "aggregate",
      "Run rounds of CSR aggregation (message passing) over a graph file with random features");
  cmd->add_option("graph", opt->graph_path,
                  "Graph file: Matrix Market (.mtx) or an edge list 'src dst [weight]' "
                  "(ids are relabelled to 0..n-1)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--device", opt->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--agg", opt->aggs, "Aggregations to run (sum mean max min)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--width", opt->width, "Feature width")
      ->check(CLI::Range(1, 1 << 16))
      ->capture_default_str();
  cmd->add_option("--rounds", opt->rounds, "Aggregation rounds (output feeds the next round)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Seed of the random features")->capture_default_str();
  cmd->add_flag("--symmetrize", opt->symmetrize, "Treat edges as undirected");
  cmd->add_flag("--self-loops", opt->self_loops, "Add a self-loop to every node");
  cmd->add_flag("--json", opt->json, "Print JSON instead of a table");
  cmd->callback([opt] { run_aggregate(*opt); });
}

}  // namespace mpe::cli
