#pragma once
// Pieces of the single-process BP driver (run.cpp) that the partitioned driver
// (partitioned.cpp) reuses, so both compute the same numbers with the same code.
#include <vector>

#include <mpe/factor_graph.hpp>

#include "bp/structure.hpp"
#include "common/bp_core.hpp"

namespace mpe::bp::parts {

/// Kernel arguments of one instance of g on the host: the structure's arrays (s lives as long as
/// `a` is used) and batch = 1; the caller sets the messages, potentials and options.
template <class T>
kernels::BpArgs<T> host_args(const FactorGraph& g, const Structure& s) {
  kernels::BpArgs<T> a;
  a.num_vars = g.num_variables();
  a.num_factors = g.num_factors();
  a.num_edges = static_cast<std::int32_t>(s.edge_var.size());
  a.card = s.card.data();
  a.var_edge_off = s.var_edge_off.data();
  a.var_edges = s.var_edges.data();
  a.var_edge_msg = s.var_edge_msg.data();
  a.var_state_off = s.var_state_off.data();
  a.edge_var = s.edge_var.data();
  a.edge_factor = s.edge_factor.data();
  a.edge_msg_off = s.edge_msg_off.data();
  a.edge_stride = s.edge_stride.data();
  a.factor_edge_off = s.factor_edge_off.data();
  a.factor_tab_off = s.factor_tab_off.data();
  a.msg_len = s.msg_len;
  a.batch = 1;
  return a;
}

/// The CPU flooding kernel's probability tables of the log-potentials `pot` (laid out as s).
std::vector<double> probability_tables(const FactorGraph& g, const Structure& s,
                                       const std::vector<double>& pot);
std::vector<float> probability_tables(const FactorGraph& g, const Structure& s,
                                      const std::vector<float>& pot);

/// What Solver::solve() does after its last sweep, from the final factor→variable messages
/// `r` of graph g (structure s, CPU): the var step (q from r), then beliefs, log Z and MAP.
/// converged / iterations / max_change are left for the caller.
Result finish_messages(const FactorGraph& g, const Structure& s, const Instance& in,
                       const Options& o, std::vector<double> r);
Result finish_messages(const FactorGraph& g, const Structure& s, const Instance& in,
                       const Options& o, std::vector<float> r);

/// The ranks whose factors (factor f on rank owner[f]) touch each variable: sorted, distinct.
std::vector<std::vector<int>> factor_readers(const FactorGraph& g, const std::vector<int>& owner);

}  // namespace mpe::bp::parts
