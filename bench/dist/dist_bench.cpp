// mpe-dist-bench: the distributed mode's measurements (docs/distributed.md).
//   cut: edge cut and halo sizes of contiguous and METIS partitions of R-MAT graphs (one process)
//   bp-cut: what a factor partition of a factor graph file exchanges per BP sweep (one process)
//   gcn: strong scaling of a partitioned GCN layer, run under mpirun: per round the halo
//        exchange and the layer on the partition, the slowest rank's time, median of repeats.
// R-MAT node ids are shuffled (seeded) so that id order carries no locality, as with hashed or
// arbitrary ids in real data; unshuffled R-MAT puts the hubs at low ids.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <mpe/dist_graph.hpp>
#include <mpe/dist_models.hpp>
#include <mpe/gnn.hpp>

#include "graphs.hpp"

namespace {
using namespace mpe;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The bench's R-MAT graph with node ids permuted by a seeded shuffle.
Csr shuffled_rmat(std::int64_t nodes, std::int64_t degree, std::uint64_t seed) {
  const Csr& g = bench::synthetic_graph("rmat", nodes, degree, seed);
  std::vector<std::int64_t> perm(static_cast<std::size_t>(nodes));
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 rng(seed + 1);
  std::shuffle(perm.begin(), perm.end(), rng);
  const Coo c = csr_to_coo(g);
  Coo p = c;
  for (std::size_t k = 0; k < c.rows.size(); ++k) {
    p.rows[k] = perm[static_cast<std::size_t>(c.rows[k])];
    p.cols[k] = perm[static_cast<std::size_t>(c.cols[k])];
  }
  return csr_from_coo(p);
}

// CPU time of this thread: with one OpenMP thread per rank it is the rank's own work, which time
// sharing on an oversubscribed or loaded machine does not inflate (wall time does).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void run_cut(std::int64_t nodes, std::int64_t degree, const std::vector<int>& parts,
             std::uint64_t seed, const std::string& only) {
  const Csr g = shuffled_rmat(nodes, degree, seed);
  fmt::print(
      "| nodes | entries | parts | method | cut entries | cut fraction | halo nodes (Σ) | "
      "max halo | max rows | partition s |\n|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
  for (int p : parts) {
    for (auto m : {dist::PartitionMethod::contiguous, dist::PartitionMethod::metis,
                   dist::PartitionMethod::metis_volume}) {
      if (m != dist::PartitionMethod::contiguous && !dist::metis_built()) continue;
      // "all": contiguous and METIS edge cut (the volume objective only when asked for).
      if (only == "all" ? m == dist::PartitionMethod::metis_volume
                        : dist::parse_partition_method(only) != m) {
        continue;
      }
      const auto t0 = Clock::now();
      const auto owner = dist::partition(g, p, m);
      const double secs = seconds_since(t0);
      const auto cut = dist::edge_cut(g, owner, p);
      fmt::print("| {} | {} | {} | {} | {} | {:.4f} | {} | {} | {} | {:.2f} |\n", nodes, g.nnz(), p,
                 m == dist::PartitionMethod::metis          ? "metis"
                 : m == dist::PartitionMethod::metis_volume ? "metis-volume"
                                                            : "contiguous",
                 cut.cut_entries,
                 double(cut.cut_entries) / double(std::max<std::int64_t>(g.nnz(), 1)),
                 cut.halo_nodes, cut.max_halo, cut.max_rows, secs);
    }
  }
}

void run_gcn(std::int64_t nodes, std::int64_t degree, std::int64_t features, int rounds, int reps,
             const std::string& method, std::uint64_t seed) {
  const auto comm = dist::world();
  const Csr norm = gnn::gcn_normalize(shuffled_rmat(nodes, degree, seed));
  const auto owner = dist::partition(norm, comm->size(), dist::parse_partition_method(method));
  const auto part = dist::PartitionedGraph::build(comm, norm, owner);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  std::vector<float> w(static_cast<std::size_t>(features * features)),
      x(static_cast<std::size_t>(nodes * features));
  for (auto& v : w) v = u(rng);
  for (auto& v : x) v = u(rng);
  gnn::GcnConv layer{Tensor::from_vector(w, {features, features}), {}};
  Tensor h = part.owned_rows(Tensor::from_vector(x, {nodes, features}));
  std::vector<double> round_s, halo_s, compute_s, cpu_s;
  for (int rep = 0; rep < reps + 1; ++rep) {  // the first is a warm-up
    double halo = 0, compute = 0, cpu = 0;
    comm->barrier();
    const auto t0 = Clock::now();
    for (int r = 0; r < rounds; ++r) {
      // dist::forward(part, layer, h) step by step, to time the halo round apart.
      const auto a = Clock::now();
      const double cpu_a = thread_cpu_seconds();
      const Tensor hw = gnn::linear(h, layer.weight);
      const auto b = Clock::now();
      cpu += thread_cpu_seconds() - cpu_a;
      const Tensor hl = part.with_halo(hw);
      const auto c = Clock::now();
      MessagePassing mp;
      mp.message = MessageKind::edge_weight;
      mp.update = Update::replace(Activation::tanh);
      const double cpu_c = thread_cpu_seconds();
      h = dist::first_rows(message_passing(part.local(), hl, mp),
                           static_cast<std::int64_t>(part.owned().size()));
      cpu += thread_cpu_seconds() - cpu_c;
      halo += std::chrono::duration<double>(c - b).count();
      compute += std::chrono::duration<double>(b - a).count() + seconds_since(c);
    }
    double t[4] = {seconds_since(t0) / rounds, halo / rounds, compute / rounds, cpu / rounds};
    comm->all_reduce(t, 4, dist::ReduceOp::max);  // the slowest rank sets the pace
    if (rep == 0) continue;
    round_s.push_back(t[0]);
    halo_s.push_back(t[1]);
    compute_s.push_back(t[2]);
    cpu_s.push_back(t[3]);
  }
  std::int64_t sent = part.halo_send_rows();
  comm->all_reduce(&sent, 1, dist::ReduceOp::sum);
  if (comm->rank() != 0) return;
  fmt::print("| {} | {} | {} | {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n",
             comm->size(), method, nodes, norm.nnz(), features, 1e3 * median(round_s),
             1e3 * median(halo_s), 1e3 * median(compute_s), 1e3 * median(cpu_s),
             double(sent) * double(features) * 4.0 / 1e6);
}
// Cut edges, message values sent per sweep and the largest ghost set of contiguous and METIS
// factor partitions (dist::partition_factors) of a factor graph file.
void run_bp_cut(const std::string& path, const std::vector<int>& parts) {
  const bp::FactorGraph g = bp::read_factor_graph(path);
  fmt::print("{}: {} variables, {} factors, {} edges\n\n", path, g.num_variables(), g.num_factors(),
             g.num_edges());
  fmt::print(
      "| parts | method | cut edges | cut fraction | values sent per sweep | max ghost "
      "factors | partition s |\n|---:|---|---:|---:|---:|---:|---:|\n");
  for (const int p : parts) {
    for (const char* m : {"contiguous", "metis"}) {
      const auto method = dist::parse_partition_method(m);
      if (method == dist::PartitionMethod::metis && !dist::metis_built()) continue;
      const auto t0 = std::chrono::steady_clock::now();
      const auto owner = dist::partition_factors(g, p, method);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const dist::BpCut c = dist::bp_cut(g, owner, p);
      fmt::print("| {} | {} | {} | {:.4f} | {} | {} | {:.2f} |\n", p, m, c.cut_edges,
                 double(c.cut_edges) / double(std::max<std::int64_t>(g.num_edges(), 1)),
                 c.sent_values, c.max_ghosts, secs);
    }
  }
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "mpe-dist-bench: edge cuts (cut) and partitioned GCN strong scaling (gcn, under mpirun)"};
  app.require_subcommand(1);
  std::int64_t nodes = 1 << 16, degree = 16, features = 64;
  int rounds = 5, reps = 5;
  std::uint64_t seed = 1;
  std::vector<int> parts{2, 4, 8, 16, 32, 64, 128, 256};
  std::string method = "contiguous";
  auto* cut =
      app.add_subcommand("cut", "edge cut of contiguous and METIS partitions (one process)");
  auto* gcn = app.add_subcommand("gcn", "one GCN layer per round on a partitioned graph (mpirun)");
  for (auto* c : {cut, gcn}) {
    c->add_option("--nodes", nodes)->capture_default_str();
    c->add_option("--degree", degree, "average in-degree")->capture_default_str();
    c->add_option("--seed", seed)->capture_default_str();
  }
  cut->add_option("--parts", parts)->capture_default_str();
  std::string only = "all";
  cut->add_option("--only", only, "all (contiguous and metis), contiguous, metis or metis-volume")
      ->capture_default_str();
  auto* bpc = app.add_subcommand("bp-cut", "factor partitions of a factor graph file for BP");
  std::string bp_file;
  bpc->add_option("file", bp_file, "libDAI .fg or UAI file")->required();
  bpc->add_option("--parts", parts)->capture_default_str();
  gcn->add_option("--features", features)->capture_default_str();
  gcn->add_option("--rounds", rounds)->capture_default_str();
  gcn->add_option("--reps", reps)->capture_default_str();
  gcn->add_option("--method", method, "contiguous, metis or metis-volume")->capture_default_str();
  gcn->add_flag("--header", "print the table header first");
  try {
    app.parse(argc, argv);
    if (*cut) run_cut(nodes, degree, parts, seed, only);
    if (*bpc) run_bp_cut(bp_file, parts);
    if (*gcn) {
      if (gcn->count("--header") && dist::world()->rank() == 0) {
        fmt::print(
            "| ranks | partition | nodes | entries | F | round ms | halo ms | layer ms | "
            "layer CPU ms | halo MB/round |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      }
      run_gcn(nodes, degree, features, rounds, reps, method, seed);
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    fmt::print(stderr, "mpe-dist-bench: {}\n", e.what());
    return 2;
  }
  return 0;
}
