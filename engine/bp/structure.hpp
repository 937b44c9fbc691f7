#pragma once
// The arrays the BP kernels walk (kernels/common/bp_core.hpp, BpArgs), built from a validated
// factor graph. Edges are numbered factor by factor in each factor's variable order.
#include <cstdint>
#include <vector>

#include <mpe/factor_graph.hpp>

namespace mpe::bp {

struct Structure {
  std::vector<std::int32_t> card;             // [V]
  std::vector<std::int32_t> var_edge_off;     // [V + 1]
  std::vector<std::int32_t> var_edges;        // [E], grouped by variable
  std::vector<std::int64_t> var_edge_msg;     // [E] edge_msg_off[var_edges[j]]
  std::vector<std::int64_t> var_state_off;    // [V + 1]
  std::vector<std::int32_t> edge_var;         // [E]
  std::vector<std::int32_t> edge_factor;      // [E]
  std::vector<std::int64_t> edge_msg_off;     // [E]
  std::vector<std::int64_t> edge_stride;      // [E]
  std::vector<std::int32_t> factor_edge_off;  // [F + 1]
  std::vector<std::int64_t> factor_tab_off;   // [F + 1]
  std::vector<std::int32_t> pair2_factors;    // pairwise factors over two binary variables
  std::vector<std::int32_t> other_edges;      // every edge of the other factors
  std::int64_t msg_len = 0;                   // Σ_e K_v
};

Structure build_structure(const FactorGraph& g);

/// True for a pairwise factor over two binary variables (the kernels' pair2 path): the rule of
/// Structure::pair2_factors, for callers that test one factor. card: the variables' states.
inline bool is_binary_pair(const Factor& f, const std::vector<std::int32_t>& card) {
  return f.vars.size() == 2 && card[static_cast<std::size_t>(f.vars[0])] == 2 &&
         card[static_cast<std::size_t>(f.vars[1])] == 2;
}

}  // namespace mpe::bp
