#pragma once
// Pieces of the single-process BP driver (run.cpp) that the partitioned driver
// (partitioned.cpp) reuses, so both compute the same numbers with the same code.
#include <cstdint>
#include <limits>
#include <vector>

#include <mpe/factor_graph.hpp>

#include "bp/structure.hpp"
#include "common/bp_core.hpp"

namespace mpe::bp::parts {

/// K when every variable of s has K states, else 0 (kernels::BpArgs::uniform_card).
inline std::int32_t uniform_card(const Structure& s) {
  if (s.card.empty()) return 0;
  for (const std::int32_t k : s.card) {
    if (k != s.card.front()) return 0;
  }
  return s.card.front();
}

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
  a.uniform_card = uniform_card(s);
  a.batch = 1;
  return a;
}

/// A factor's log-potentials as the kernels store them (-inf as bp_zero).
template <class T>
void kernel_table(const std::vector<double>& tab, T* dst) {
  for (std::size_t t = 0; t < tab.size(); ++t) {
    dst[t] = tab[t] == -std::numeric_limits<double>::infinity() ? kernels::bp_zero<T>()
                                                                : static_cast<T>(tab[t]);
  }
}

/// Points a at one instance's host buffers (all of which outlive a): its evidence (empty: none),
/// an always-set active flag, the messages q and r, the scratch and the one change cell; and the
/// method. What the one-process finish and the partitioned driver both run the kernel on.
template <class T>
void set_host_buffers(kernels::BpArgs<T>& a, const std::vector<std::int32_t>& ev,
                      const std::int32_t* active, std::vector<T>& q, std::vector<T>& r,
                      std::vector<T>& scratch, std::vector<T>& change, Method method) {
  a.evidence = ev.empty() ? nullptr : ev.data();
  a.active = active;
  a.q = q.data();
  a.r = r.data();
  a.scratch = scratch.data();
  a.change = change.data();
  a.max_product = method == Method::max_product;
}

/// The CPU flooding fast path's work lists over `factors` (ascending ids of g): the binary
/// pairwise ones with their pair2_info rows; the shaped ones (kernels::BpArgs::shape_rows),
/// grouped by shape (arity, K), ascending ids within a shape, with their rows and info; then
/// the others, those of arity > 1 first.
struct FastLists {
  std::vector<std::int32_t> pair2;
  std::vector<std::int64_t> pair2_info;
  std::vector<std::int32_t> shape;
  std::vector<std::int32_t> shape_rows;
  std::vector<std::int64_t> shape_info;
  std::int64_t shape_len = 0;  // Σ K^arity over the shape rows (kBpShapeBlock-wide vectors)
  std::vector<std::int32_t> other;
  std::int32_t num_nonunary = 0;
};
FastLists fast_lists(const FactorGraph& g, const Structure& s, const std::vector<int>& factors);

/// The shape rows' probability tables, lane-major (kernels::BpArgs::shape_prob), for every
/// set of tables in `prob` (sets of tab_len values, as pot_prob).
template <class T>
std::vector<T> shape_tables(const FastLists& l, const std::vector<T>& prob, std::int64_t tab_len) {
  constexpr int B = kernels::kBpShapeBlock;
  const std::int64_t sets = tab_len > 0 ? static_cast<std::int64_t>(prob.size()) / tab_len : 0;
  std::vector<T> out(static_cast<std::size_t>(sets * l.shape_len * B));
  for (std::int64_t set = 0; set < sets; ++set) {
    for (std::size_t rw = 0; rw < l.shape_rows.size() / 5; ++rw) {
      const std::int32_t* row = l.shape_rows.data() + 5 * rw;
      std::int64_t size = 1;
      for (int j = 0; j < row[0]; ++j) size *= row[1];
      const std::int64_t* to = l.shape_info.data() + rw * kernels::kBpShapeInfo * B + B;
      T* dst = out.data() + (set * l.shape_len + row[4]) * B;
      for (std::int64_t t = 0; t < size; ++t) {
        for (int ln = 0; ln < B; ++ln) {
          dst[t * B + ln] = prob[static_cast<std::size_t>(set * tab_len + to[ln] + t)];
        }
      }
    }
  }
  return out;
}

/// Points a's fast-path fields at the probability tables (pot_prob's and the shape rows'), the
/// totals workspace and the lists (all of which outlive a). The pair2 list itself is set by the
/// caller (host or device copy). shape_stride: 0 when the batch shares one set of tables.
template <class T>
void set_fast_path(kernels::BpArgs<T>& a, const T* prob, const std::vector<T>& shape_prob,
                   std::int64_t shape_stride, T* tot, std::int32_t* zeros, const FastLists& l) {
  a.shape_prob = shape_prob.data();
  a.shape_prob_stride = shape_stride;
  a.pot_prob = prob;
  a.var_tot = tot;
  a.var_zeros = zeros;
  a.other_factors = l.other.data();
  a.num_other_factors = static_cast<std::int32_t>(l.other.size());
  a.num_other_nonunary = l.num_nonunary;
  a.pair2_info = l.pair2_info.data();
  a.shape_rows = l.shape_rows.data();
  a.num_shape_rows = static_cast<std::int32_t>(l.shape_rows.size() / 5);
  a.shape_factors = l.shape.data();
  a.shape_info = l.shape_info.data();
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
