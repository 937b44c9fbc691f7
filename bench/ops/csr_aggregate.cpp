// mpe-bench op csr_aggregate, and the graph parameters the CSR ops share (ops/common.hpp).
#include <memory>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/ops.hpp>

#include "graphs.hpp"
#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
PreparedCase prepare_csr(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const Csr& host = csr_host_graph(p, seed);
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
  c.shape = fmt::format(
      "{} n={} nnz={} F={} {}{}", p.params.count("mtx") ? p.params.at("mtx") : p.params.at("graph"),
      host.num_rows, host.nnz(), F, p.params.at("agg"), host.weighted() ? " weighted" : "");
  return c;
}

Check graph_kinds() {
  return [](const std::string& flag, const std::string& v) {
    if (!known_graph_kind(v)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("unknown --{} '{}' (uniform or rmat)", flag, v));
    }
    return v;
  };
}
}  // namespace

MPE_BENCH_OP(OpSpec{
    "csr_aggregate",
    "CSR row aggregation y_i = AGG_j w_ij x_j",
    "row offsets ((n+1)*8) + columns (nnz*4) + weights (nnz*4) + x (n*F*4)\n"
    "+ y (n*F*4); GFLOP/s = 2*nnz*F / time",
    {text_param("graph", "csr_aggregate: uniform, rmat (seeded synthetic)", {"rmat"}, graph_kinds())
         .quick({"uniform", "rmat"}),
     int_param("nodes", "csr_aggregate: nodes n", {1000000}, 1).quick({"100000"}),
     int_param("degree", "csr_aggregate: average in-degree", {16}, 0),
     int_param("width", "csr_aggregate: feature width F", {64}, 1),
     text_param("agg", "csr_aggregate: sum, mean, max, min", {"sum"},
                parsed_by([](const std::string& a) { (void)parse_aggregation(a); }))
         .quick({"sum", "max"}),
     file_param("mtx", "csr_aggregate: a Matrix Market file instead")},
    prepare_csr,
    csr_adjust})

}  // namespace mpe::bench
