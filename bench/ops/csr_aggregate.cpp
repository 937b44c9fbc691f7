// mpe-bench op csr_aggregate (and the graph parameters the CSR ops share).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <mpe/aif.hpp>
#include <mpe/attention.hpp>
#include <mpe/engine.hpp>
#include <mpe/ops.hpp>

#include "graphs.hpp"
#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
PreparedCase prepare_csr(const CasePoint& p, const Device& device, std::uint64_t seed,
                         const std::string& mtx) {
  const Csr& host = mtx.empty() ? synthetic_graph(p.params.at("graph"), param(p, "nodes"),
                                                  param(p, "degree"), seed)
                                : file_graph(mtx);
  const std::int64_t F = param(p, "width");
  const Aggregation agg = parse_aggregation(p.params.at("agg"));
  auto g = std::make_shared<Csr>(host.to(device));
  auto x = std::make_shared<Tensor>(random_tensor({host.num_cols, F}, -1.f, 1.f, seed, device));
  auto y = std::make_shared<Tensor>(Tensor::empty({host.num_rows, F}, DType::f32, device));
  y->fill_bytes(0xFF);
  PreparedCase c;
  c.run = [g, x, y, agg] { csr_aggregate(*g, *x, agg, *y); };
  const double nnz = double(host.nnz());
  c.bytes = 8.0 * double(host.num_rows + 1) + 4.0 * nnz + (host.weighted() ? 4.0 * nnz : 0.0) +
            4.0 * double(host.num_cols * F) + 4.0 * double(host.num_rows * F);
  c.flops = 2.0 * nnz * double(F);
  c.nnz = host.nnz();
  c.shape = fmt::format("{} n={} nnz={} F={} {}{}", mtx.empty() ? p.params.at("graph") : mtx,
                        host.num_rows, host.nnz(), F, p.params.at("agg"),
                        host.weighted() ? " weighted" : "");
  return c;
}

// mpe-bench's flags of this op (their values fill the grid).
void add_csr_aggregate_flags(CLI::App& app, Grid& g) {
  app.add_option("--nodes", g.nodes, "csr_aggregate: nodes n")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--degree", g.degree, "csr_aggregate: average in-degree")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--width", g.width, "csr_aggregate: feature width F")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--agg", g.aggs, "csr_aggregate: sum, mean, max, min")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--graph", g.graphs, "csr_aggregate: uniform, rmat (seeded synthetic)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--mtx", g.mtx, "csr_aggregate: a Matrix Market file instead")
      ->check(CLI::ExistingFile);
}
}  // namespace

void validate_csr_family(const Grid& g, const std::string& op) {
  if (g.mtx.empty()) {
    check_at_least("nodes", g.nodes, 1);
    check_at_least("degree", g.degree, 0);
    for (const auto& k : g.graphs) {
      if (!known_graph_kind(k)) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("unknown graph kind '{}' (uniform or rmat)", k));
      }
    }
  }
  check_at_least("width", g.width, 1);
  for (const auto& a : g.aggs) (void)parse_aggregation(a);  // throws for unknown names
  if (op == "graph_mp") check_dtypes(g.attn_dtype);
}

void expand_csr_family(const Grid& grid, const std::string& op, std::vector<CasePoint>& out) {
  const std::vector<std::string> graphs =
      grid.mtx.empty() ? grid.graphs : std::vector<std::string>{"mtx"};
  const std::vector<std::int64_t> nodes =
      grid.mtx.empty() ? grid.nodes : std::vector<std::int64_t>{0};
  const std::vector<std::int64_t> degrees =
      grid.mtx.empty() ? grid.degree : std::vector<std::int64_t>{0};
  const std::vector<std::string> dtypes =
      op == "graph_mp" ? grid.attn_dtype : std::vector<std::string>{"f32"};
  for (const auto& gk : graphs)
    for (auto n : nodes)
      for (auto d : degrees)
        for (auto w : grid.width)
          for (const auto& a : grid.aggs)
            for (const auto& dt : dtypes) {
              CasePoint point{op, {{"graph", gk}, {"width", std::to_string(w)}, {"agg", a}}};
              if (grid.mtx.empty()) {
                point.params["nodes"] = std::to_string(n);
                point.params["degree"] = std::to_string(d);
              } else {  // the file fixes the graph's size
                point.params["mtx"] = grid.mtx;
              }
              if (op == "graph_mp") point.params["dtype"] = dt;  // feature storage
              out.push_back(std::move(point));
            }
}

MPE_BENCH_OP({"csr_aggregate",
              [](const Grid& g) { validate_csr_family(g, "csr_aggregate"); },
              [](const Grid& g, std::vector<CasePoint>& out) {
                expand_csr_family(g, "csr_aggregate", out);
              },
              prepare_csr,
              add_csr_aggregate_flags})
}  // namespace mpe::bench
