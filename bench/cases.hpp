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
  std::function<void()> run;  // one launch of the op (queued on the device)
  double bytes = 0;           // floor of bytes the op must move (see --help)
  double flops = 0;           // useful floating-point operations, 0 when not meaningful
  std::string shape;          // the shape in words, e.g. "B=64 I=192 J=192 shared"
  std::int64_t nnz = 0;       // edges (csr_aggregate)
  double items = 0;           // independent results per run (plans for aif_plan), 0 if n/a
  std::string items_unit = "plans";  // what items counts ("messages" for bp)
  std::function<std::string()> after;  // a line to print after the timed runs (may be empty)
};

// One point of the grid: op name and its parameters (name -> value as text).
struct CasePoint {
  std::string op;
  std::map<std::string, std::string> params;
};

struct Grid {
  std::vector<std::string> ops;
  std::vector<std::int64_t> batch, rows, cols, shared;              // lse_contract
  std::vector<std::int64_t> nodes, degree, width;                   // csr_aggregate
  std::vector<std::string> aggs, graphs;                            // csr_aggregate
  std::string mtx;                                                  // csr_aggregate from a file
  std::vector<std::int64_t> mib;                                    // copy: buffer size in MiB
  std::vector<std::int64_t> problems, states, actions;              // aif_plan
  std::vector<std::int64_t> horizon, iters;                         // aif_plan
  std::vector<std::int64_t> thetas{4}, modalities{2}, outcomes{2};  // aif_plan
  std::vector<std::int64_t> successors{0};  // aif_plan: successors per (x, θ, u); 0 = dense T
  std::vector<std::string> aif_methods{"aif"}, theta_modes{"fixed"};  // aif_plan: method, θ mode
  std::vector<std::int64_t> clients{16}, engine_batch{1, 256};  // aif_engine
  std::vector<std::int64_t> attn_batch{1}, heads{8}, kv_heads{0}, seq{512, 1024, 2048},
      head_dim{64, 128}, causal{0};  // attention (kv_heads 0 = heads)
  std::vector<std::string> attn_dtype{"f32"}, attn_path{"fused"};  // attention: storage, path
  std::vector<std::string> rel_graphs{"demo", "rmat"};                  // relevance
  std::vector<std::int64_t> rel_batch{1, 256}, rel_dim{64};            // relevance
  std::vector<std::string> bp_graphs{"grid"}, bp_methods{"sum"}, bp_precisions{"f64"},
      bp_schedules{"flooding"}, bp_dampings{"0"};                      // bp
  std::vector<std::int64_t> bp_size{64}, bp_card{2}, bp_batch{1}, bp_sweeps{10};  // bp
  std::string bp_file;                                                // bp from a .fg/.uai file
  std::vector<std::int64_t> bp_requests{256};                         // bp_engine
  std::vector<std::string> rel_gate{"0"};                              // relevance: edge gate
  std::vector<std::string> rel_mode{"spreading"}, rel_dense{"auto"};   // relevance: ppr, switch
  std::vector<std::int64_t> rel_requests{1024};                        // relevance_engine
  std::uint64_t seed = 1;
};

// The cartesian product of the grid's parameters, op by op. Throws mpe::Error for an unknown
// op, graph kind or aggregation, or a size out of range, before building anything.
std::vector<CasePoint> expand(const Grid& grid);

// Builds the inputs of `point` on `device`. Throws mpe::Error for bad parameters.
PreparedCase prepare(const CasePoint& point, const Device& device, std::uint64_t seed,
                     const std::string& mtx_path);

}  // namespace mpe::bench
