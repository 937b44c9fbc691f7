// mpe-bench ops graph_mp (the fused message-passing layer) and gcn (one GCN layer): the CSR
// parameters of csr_aggregate (ops/common.hpp).
#include <memory>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <mpe/gnn.hpp>
#include <mpe/graph_mp.hpp>

#include "cases.hpp"
#include "graphs.hpp"
#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
const Csr& host_graph(const CasePoint& p, std::uint64_t seed, const std::string& mtx) {
  return mtx.empty() ? synthetic_graph(p.params.at("graph"), std::stoll(p.params.at("nodes")),
                                       std::stoll(p.params.at("degree")), seed)
                     : file_graph(mtx);
}

std::string graph_words(const CasePoint& p, const Csr& g, const std::string& mtx) {
  return fmt::format("{} n={} nnz={}", mtx.empty() ? p.params.at("graph") : mtx, g.num_rows,
                     g.nnz());
}
}  // namespace

// y = relu(0.5·x + 0.5·AGG(w·x) + bias): weighted messages, residual update, bias and
// activation in the one fused pass. Bytes as csr_aggregate (x read once, y written once).
PreparedCase prepare_graph_mp(const CasePoint& p, const Device& device, std::uint64_t seed,
                              const std::string& mtx) {
  const Csr& host = host_graph(p, seed, mtx);
  if (host.num_rows != host.num_cols) {
    throw Error(ErrorCode::invalid_argument, "graph_mp: the residual update needs a square graph");
  }
  const std::int64_t F = std::stoll(p.params.at("width"));
  MessagePassing layer;
  layer.message = host.weighted() ? MessageKind::edge_weight : MessageKind::copy;
  layer.aggregate = parse_aggregation(p.params.at("agg"));
  layer.update = Update::residual(0.5f, Activation::relu);
  layer.update.bias = random_tensor({F}, -0.1f, 0.1f, seed + 2, device);
  const std::string dts = p.params.count("dtype") ? p.params.at("dtype") : "f32";
  const DType dt = dts == "bf16" ? DType::bf16 : (dts == "f16" ? DType::f16 : DType::f32);
  auto g = std::make_shared<Csr>(host.to(device));
  auto x = std::make_shared<Tensor>(
      random_tensor({host.num_cols, F}, -1.f, 1.f, seed, device).astype(dt));
  auto y = std::make_shared<Tensor>(Tensor::empty({host.num_rows, F}, dt, device));
  y->fill_bytes(0xFF);
  PreparedCase c;
  c.run = [g, x, y, layer] { message_passing(*g, *x, layer, *y); };
  const double nnz = double(host.nnz());
  const double es = static_cast<double>(dtype_size(dt));  // feature element size
  c.bytes = 8.0 * double(host.num_rows + 1) + 4.0 * nnz + (host.weighted() ? 4.0 * nnz : 0.0) +
            es * double(host.num_cols * F) + es * double(host.num_rows * F);
  c.flops = 2.0 * nnz * double(F);
  c.nnz = host.nnz();
  c.shape = fmt::format("{} F={} {} residual+relu{}", graph_words(p, host, mtx), F,
                        p.params.at("agg"), dt == DType::f32 ? "" : fmt::format(" {}", dts));
  return c;
}

// One GCN layer F -> F on gcn_normalize(graph) (prepared once, untimed): the dense transform
// (blocked GEMM / cuBLAS) and the normalised aggregation with bias. FLOPs 2·n·F² + 2·nnz'·F.
PreparedCase prepare_gcn(const CasePoint& p, const Device& device, std::uint64_t seed,
                         const std::string& mtx) {
  const Csr& host = host_graph(p, seed, mtx);
  const std::int64_t F = std::stoll(p.params.at("width"));
  auto g = std::make_shared<Csr>(gnn::gcn_normalize(host).to(device));
  auto layer = std::make_shared<gnn::GcnConv>();
  layer->weight = random_tensor({F, F}, -0.2f, 0.2f, seed + 3, device);
  layer->bias = random_tensor({F}, -0.1f, 0.1f, seed + 4, device);
  auto x = std::make_shared<Tensor>(random_tensor({host.num_cols, F}, -1.f, 1.f, seed, device));
  PreparedCase c;
  c.run = [g, x, layer] { (void)layer->forward(*g, *x, Activation::relu); };
  const double n = double(host.num_rows), nnz = double(g->nnz());
  // x read, h = x·Wᵀ written and read back, y written; the graph read once.
  c.bytes = 8.0 * (n + 1) + 8.0 * nnz + 4.0 * 4.0 * n * double(F);
  c.flops = 2.0 * n * double(F) * double(F) + 2.0 * nnz * double(F);
  c.nnz = g->nnz();
  c.shape = fmt::format("{} (+loops: {}) F={} gcn relu", graph_words(p, host, mtx), g->nnz(), F);
  return c;
}

MPE_BENCH_OP({"graph_mp",
              [](const Grid& g) { validate_csr_family(g, "graph_mp"); },
              [](const Grid& g, std::vector<CasePoint>& out) {
                expand_csr_family(g, "graph_mp", out);
              },
              prepare_graph_mp,
              {}})
MPE_BENCH_OP({"gcn", [](const Grid& g) { validate_csr_family(g, "gcn"); },
              [](const Grid& g, std::vector<CasePoint>& out) {
                expand_csr_family(g, "gcn", out);
              },
              prepare_gcn,
              {}})

}  // namespace mpe::bench
