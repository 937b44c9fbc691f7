#include "bp/structure.hpp"

namespace mpe::bp {

Structure build_structure(const FactorGraph& g) {
  Structure s;
  const int nv = g.num_variables();
  s.card.assign(g.cardinalities.begin(), g.cardinalities.end());
  s.var_state_off.assign(static_cast<std::size_t>(nv) + 1, 0);
  for (int v = 0; v < nv; ++v) {
    s.var_state_off[static_cast<std::size_t>(v) + 1] =
        s.var_state_off[static_cast<std::size_t>(v)] + s.card[static_cast<std::size_t>(v)];
  }
  s.factor_edge_off.push_back(0);
  s.factor_tab_off.push_back(0);
  std::vector<std::int32_t> degree(static_cast<std::size_t>(nv), 0);
  for (int f = 0; f < g.num_factors(); ++f) {
    const Factor& fac = g.factors[static_cast<std::size_t>(f)];
    std::int64_t stride = 1;
    const bool pair2 = is_binary_pair(fac, s.card);
    if (pair2) s.pair2_factors.push_back(f);
    for (int v : fac.vars) {
      if (!pair2) s.other_edges.push_back(static_cast<std::int32_t>(s.edge_var.size()));
      s.edge_var.push_back(v);
      s.edge_factor.push_back(f);
      s.edge_msg_off.push_back(s.msg_len);
      s.edge_stride.push_back(stride);
      s.msg_len += s.card[static_cast<std::size_t>(v)];
      stride *= s.card[static_cast<std::size_t>(v)];
      ++degree[static_cast<std::size_t>(v)];
    }
    s.factor_edge_off.push_back(static_cast<std::int32_t>(s.edge_var.size()));
    s.factor_tab_off.push_back(s.factor_tab_off.back() + stride);
  }
  s.var_edge_off.assign(static_cast<std::size_t>(nv) + 1, 0);
  for (int v = 0; v < nv; ++v) {
    s.var_edge_off[static_cast<std::size_t>(v) + 1] =
        s.var_edge_off[static_cast<std::size_t>(v)] + degree[static_cast<std::size_t>(v)];
  }
  s.var_edges.resize(s.edge_var.size());
  std::vector<std::int32_t> fill(s.var_edge_off.begin(), s.var_edge_off.end() - 1);
  for (std::size_t e = 0; e < s.edge_var.size(); ++e) {
    s.var_edges[static_cast<std::size_t>(fill[static_cast<std::size_t>(s.edge_var[e])]++)] =
        static_cast<std::int32_t>(e);
  }
  s.var_edge_msg.resize(s.var_edges.size());
  for (std::size_t j = 0; j < s.var_edges.size(); ++j) {
    s.var_edge_msg[j] = s.edge_msg_off[static_cast<std::size_t>(s.var_edges[j])];
  }
  return s;
}

}  // namespace mpe::bp
