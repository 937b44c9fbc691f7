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

// y = relu(0.5·x + 0.5·AGG(w·x) + bias): weighted messages, residual update, bias and
// activation in the one fused pass. Bytes as csr_aggregate (x read once, y written once).
PreparedCase prepare_graph_mp(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const Csr& host = csr_host_graph(p, seed);
  if (host.num_rows != host.num_cols) {
    throw Error(ErrorCode::invalid_argument, "graph_mp: the residual update needs a square graph");
  }
  const std::int64_t F = param(p, "width");
  MessagePassing layer;
  layer.message = host.weighted() ? MessageKind::edge_weight : MessageKind::copy;
  layer.aggregate = parse_aggregation(p.params.at("agg"));
  layer.update = Update::residual(0.5f, Activation::relu);
  layer.update.bias = random_tensor({F}, -0.1f, 0.1f, seed + 2, device);
  const std::string& dts = p.params.at("dtype");
  const DType dt = storage_dtype(dts);
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
  c.shape = fmt::format("{} F={} {} residual+relu{}", csr_graph_words(p, host), F,
                        p.params.at("agg"), dt == DType::f32 ? "" : fmt::format(" {}", dts));
  return c;
}

// One GCN layer F -> F on gcn_normalize(graph) (prepared once, untimed): the dense transform
// (blocked GEMM / cuBLAS) and the normalised aggregation with bias. FLOPs 2·n·F² + 2·nnz'·F.
PreparedCase prepare_gcn(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const Csr& host = csr_host_graph(p, seed);
  const std::int64_t F = param(p, "width");
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
  c.shape = fmt::format("{} (+loops: {}) F={} gcn relu", csr_graph_words(p, host), g->nnz(), F);
  return c;
}

namespace {
std::vector<Param> graph_mp_params() {
  std::vector<Param> params = csr_graph_params();
  params.push_back(uses("dtype"));  // feature storage (declared by attention)
  return params;
}
}  // namespace

MPE_BENCH_OP(OpSpec{"graph_mp",
                    "message-passing layer: weighted messages, residual update, bias, ReLU",
                    "as csr_aggregate, x and y at --dtype size (fused weighted message,\n"
                    "residual update, bias, ReLU)",
                    graph_mp_params(), prepare_graph_mp, csr_adjust})
MPE_BENCH_OP(OpSpec{"gcn", "one GCN layer F->F",
                    "one GCN layer F->F: graph + x, h = xW^T written and read, y;\n"
                    "GFLOP/s = (2*n*F*F + 2*nnz*F) / time (nnz with self-loops)",
                    csr_graph_params(), prepare_gcn, csr_adjust})

}  // namespace mpe::bench
