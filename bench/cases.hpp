#pragma once
// Benchmark cases: one op at one point of the parameter grid, set up on one device.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <mpe/device.hpp>

namespace mpe::bench {

// A prepared case: inputs on the device, an output poisoned before timing.
struct PreparedCase {
  std::function<void()> run;           // one launch of the op (queued on the device)
  double bytes = 0;                    // floor of bytes the op must move (see --help)
  double flops = 0;                    // useful floating-point operations, 0 when not meaningful
  std::string shape;                   // the shape in words, e.g. "B=64 I=192 J=192 shared"
  std::int64_t nnz = 0;                // edges (csr_aggregate)
  double items = 0;                    // independent results per run (plans for aif_plan), 0 if n/a
  std::string items_unit = "plans";    // what items counts ("messages" for bp)
  std::function<std::string()> after;  // a line to print after the timed runs (may be empty)
  std::function<void()> timed_start;   // called after the warm-up runs, before the timed ones (may be empty)
};

// One point of the grid: op name and its parameters (key -> value as text).
struct CasePoint {
  std::string op;
  std::map<std::string, std::string> params;
};

// The ops to run and every flag's values (flag name without "--" -> values as text), as the
// ops' parameter tables (bench/ops/registry.hpp) declare them.
struct Grid {
  std::vector<std::string> ops;
  std::map<std::string, std::vector<std::string>> values;
  std::uint64_t seed = 1;
};

// The cartesian product of the grid's parameters, op by op. Throws mpe::Error for an unknown
// op or a value its check refuses, before building anything.
std::vector<CasePoint> expand(const Grid& grid);

// Builds the inputs of `point` on `device`. Throws mpe::Error for bad parameters.
PreparedCase prepare(const CasePoint& point, const Device& device, std::uint64_t seed);

}  // namespace mpe::bench
