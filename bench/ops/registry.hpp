#pragma once
// mpe-bench's ops as a registry: each bench/ops/<op>.cpp registers, under its op name, its
// command-line flags, how its parameters are checked, how the grid expands into case points and how one point is prepared
// on a device. main.cpp and cases.cpp only drive the registry.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <mpe/device.hpp>

#include "cases.hpp"

namespace CLI {
class App;
}

namespace mpe::bench {

struct OpSpec {
  std::string name;
  // Checks the grid's parameters of this op (throws mpe::Error before anything runs).
  std::function<void(const Grid&)> validate;
  // Appends the op's case points for the grid (the cartesian product of its parameters).
  std::function<void(const Grid&, std::vector<CasePoint>&)> expand;
  // Builds the inputs of one point on a device.
  std::function<PreparedCase(const CasePoint&, const Device&, std::uint64_t seed,
                             const std::string& mtx)>
      prepare;
  // Declares the op's command-line flags, bound to the grid (empty for an op whose flags
  // another op declares: graph_mp, gcn and cusparse_spmm use csr_aggregate's, aif_engine
  // aif_plan's).
  std::function<void(CLI::App&, Grid&)> add_flags;
};

// Adds an op (at static initialisation, through MPE_BENCH_OP).
bool register_op(OpSpec spec);
// The op named `name`, or nullptr.
const OpSpec* find_op(const std::string& name);
// Every registered op name, sorted.
std::vector<std::string> op_names();

#define MPE_BENCH_OP_CAT2(a, b) a##b
#define MPE_BENCH_OP_CAT(a, b) MPE_BENCH_OP_CAT2(a, b)
// Registers an OpSpec built from the arguments: MPE_BENCH_OP({"name", validate, expand, prepare}).
#define MPE_BENCH_OP(...)                                                          \
  namespace {                                                                      \
  const bool MPE_BENCH_OP_CAT(mpe_bench_op_, __LINE__) = register_op(__VA_ARGS__); \
  }

}  // namespace mpe::bench
