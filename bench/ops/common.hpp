#pragma once
// Helpers shared by the op files of mpe-bench.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <mpe/tensor.hpp>

#include "cases.hpp"

namespace mpe::bench {

// Integer parameter `name` of a point.
inline std::int64_t param(const CasePoint& p, const char* name) {
  return std::stoll(p.params.at(name));
}

// Uniform random float32 tensor in [lo, hi) on `device`.
Tensor random_tensor(const Shape& shape, float lo, float hi, std::uint64_t seed, Device device);

// Every value of a size parameter must be at least `min` (0 or 1).
void check_at_least(const char* flag, const std::vector<std::int64_t>& values, std::int64_t min);

// Every value is f32, bf16 or f16 (--dtype).
void check_dtypes(const std::vector<std::string>& values);

// The values of an integer parameter as text.
std::vector<std::string> texts(const std::vector<std::int64_t>& values);

// Appends one point of `op` per combination of the named parameters' values, the first
// parameter varying slowest (as nested loops in the order given).
using ParamAxis = std::pair<std::string, std::vector<std::string>>;
void cartesian(const std::string& op, const std::vector<ParamAxis>& axes,
               std::vector<CasePoint>& out);

// The CSR ops (csr_aggregate, graph_mp, gcn, cusparse_spmm) share their graph parameters:
// checks and expansion of --graph/--nodes/--degree (or --mtx), --width and --agg (and --dtype
// for graph_mp).
void validate_csr_family(const Grid& g, const std::string& op);
void expand_csr_family(const Grid& grid, const std::string& op, std::vector<CasePoint>& out);

}  // namespace mpe::bench
