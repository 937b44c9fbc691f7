#pragma once
// Helpers shared by the op files of mpe-bench.
#include <cstdint>
#include <string>
#include <vector>

#include <mpe/graph.hpp>
#include <mpe/tensor.hpp>

#include "cases.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

// Integer parameter `name` of a point.
inline std::int64_t param(const CasePoint& p, const char* name) {
  return std::stoll(p.params.at(name));
}

// Uniform random float32 tensor in [lo, hi) on `device`.
Tensor random_tensor(const Shape& shape, float lo, float hi, std::uint64_t seed, Device device);

// --dtype's values: f32, bf16, f16; the DType of one.
Check storage_dtypes();
DType storage_dtype(const std::string& name);

// The CSR ops (csr_aggregate, graph_mp, gcn, cusparse_spmm) share csr_aggregate's graph
// parameters: --graph, --nodes, --degree (or --mtx), --width, --agg. Their uses() by the
// other CSR ops, the points' fix-up (a file fixes the graph: graph=mtx, no nodes or degree)
// and the graph of a point (synthetic, or the file; host memory).
std::vector<Param> csr_graph_params();
bool csr_adjust(CasePoint& p);
const Csr& csr_host_graph(const CasePoint& p, std::uint64_t seed);
// "rmat n=100 nnz=1600" (the file's path for a file).
std::string csr_graph_words(const CasePoint& p, const Csr& g);

}  // namespace mpe::bench
