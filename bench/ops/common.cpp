// Helpers shared by mpe-bench's op files.
#include "ops/common.hpp"

#include <random>

#include <fmt/format.h>
#include <mpe/graph.hpp>

#include "graphs.hpp"

namespace mpe::bench {

Tensor random_tensor(const Shape& shape, float lo, float hi, std::uint64_t seed, Device device) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = dist(rng);
  return Tensor::from_vector(v, shape, device);
}

Check storage_dtypes() { return one_of({"f32", "bf16", "f16"}); }

DType storage_dtype(const std::string& name) {
  return name == "bf16" ? DType::bf16 : (name == "f16" ? DType::f16 : DType::f32);
}

std::vector<Param> csr_graph_params() {
  return {uses("graph"), uses("nodes"), uses("degree"), uses("width"), uses("agg"), uses("mtx")};
}

bool csr_adjust(CasePoint& p) {
  if (p.params.at("mtx").empty()) {
    p.params.erase("mtx");
  } else {  // the file fixes the graph's size
    p.params["graph"] = "mtx";
    p.params.erase("nodes");
    p.params.erase("degree");
  }
  return true;
}

const Csr& csr_host_graph(const CasePoint& p, std::uint64_t seed) {
  return p.params.count("mtx")
             ? file_graph(p.params.at("mtx"))
             : synthetic_graph(p.params.at("graph"), param(p, "nodes"), param(p, "degree"), seed);
}

std::string csr_graph_words(const CasePoint& p, const Csr& g) {
  return fmt::format("{} n={} nnz={}",
                     p.params.count("mtx") ? p.params.at("mtx") : p.params.at("graph"), g.num_rows,
                     g.nnz());
}

}  // namespace mpe::bench
